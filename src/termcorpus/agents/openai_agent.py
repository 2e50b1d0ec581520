"""A teacher agent behind any OpenAI-compatible ``/chat/completions`` endpoint.

Works with hosted APIs and with local servers (``transformers serve``, vLLM, llama.cpp), through
the official ``openai`` SDK. The request carries ``model``, ``messages``, ``temperature`` and
``max_tokens`` and nothing else: some local servers reject fields they do not implement
(``transformers serve`` answers 422/400 to ``tool_choice``, ``response_format``, ``n``,
``logprobs``, ``user``, ...), so the client sends only what every server understands.

Failures, and what happens to them:

* connection refused/reset, timeouts, HTTP 408/409/429 and 5xx: retried by the SDK with its own
  exponential backoff (0.5 s doubling to at most 8 s, with jitter; a ``Retry-After`` or
  ``retry-after-ms`` header is honoured), at most ``max_retries`` times; then one
  :class:`~termcorpus.errors.EnvironmentProblem` line naming the endpoint and the last error;
* any other HTTP status (400 wrong model name, 401 bad key, 404 wrong URL): no retry, one line
  with the server's own explanation;
* a reply that is not a Terminus-2 action is *not* a failure here: ``act`` returns the text as
  it came and the episode shows the parse error to the model as its next observation.

Token and cost accounting: every response's ``usage`` is added to :attr:`OpenAIChatAgent.usage`
(``requests``, ``retries``, ``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
``cost_usd`` from per-1k-token prices). The API key is read once, from the environment variable
the caller names, and is never logged, recorded or put in an error message. Without a key the
request carries no ``Authorization`` header at all, which is what local servers expect.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Sequence

from termcorpus.train.chat import as_chat_dicts
from termcorpus.errors import ConfigError, EnvironmentProblem
from termcorpus.records import Message, Task

_MAX_DETAIL_CHARS = 200
# The SDK wants some key even when the server needs none; the Authorization header is then
# omitted from every request (see ``_extra_headers``), so this placeholder is never sent.
_NO_KEY = "no-key"


@dataclass(frozen=True)
class Completion:
    """One chat completion: the assistant text and what the server counted for it."""

    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


def _one_line(text: str, limit: int = _MAX_DETAIL_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_detail(err: Any) -> str:
    """The server's explanation: OpenAI's ``error.message``, FastAPI's ``detail``, or the body."""
    response = getattr(err, "response", None)
    try:
        body = response.text if response is not None else ""
    except Exception:  # a streamed or closed body: fall back to the SDK's message
        body = ""
    try:
        data = json.loads(body)
    except ValueError:
        return _one_line(body or getattr(err, "message", "") or "")
    if isinstance(data, dict):
        inner = data.get("error")
        if isinstance(inner, dict) and inner.get("message"):
            return _one_line(inner["message"])
        if data.get("detail"):
            return _one_line(data["detail"] if isinstance(data["detail"], str) else json.dumps(data["detail"]))
    return _one_line(body)


class OpenAIChatAgent:
    """A Terminus-2 agent whose every turn is one ``POST {base_url}/chat/completions``.

    ``base_url`` ends before ``/chat/completions`` (e.g. ``http://127.0.0.1:8000/v1``);
    ``model`` is sent as is (``transformers serve`` wants exactly the name on its command line).
    With ``temperature`` 0 a deterministic server gives the same episode every time.
    """

    name: str
    model: str

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.0,
        max_tokens: int = 512,
        max_retries: int = 4,
        timeout_sec: float = 120.0,
        price_prompt_per_1k: float = 0.0,
        price_completion_per_1k: float = 0.0,
        name: str = "openai",
        role: str = "teacher",
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"teacher base URL must start with http:// or https://, got {base_url!r}")
        if not model:
            raise ConfigError("teacher model name is empty: name the model the endpoint serves")
        if max_tokens < 1 or max_retries < 0 or timeout_sec <= 0:
            raise ConfigError("teacher limits out of range (max_tokens >= 1, max_retries >= 0, timeout_sec > 0)")
        self.name = name
        self.model = model
        self.role = role  # how error lines name the endpoint ('teacher', 'synthesis')
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.max_retries = int(max_retries)
        self.timeout_sec = float(timeout_sec)
        self.price_prompt_per_1k = float(price_prompt_per_1k)
        self.price_completion_per_1k = float(price_completion_per_1k)
        self.api_key_env = api_key_env
        # Read once here (the agent's entry point); an empty key sends no Authorization header,
        # which is what local servers expect.
        self._api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        self._sdk: Any = None
        self.usage: dict[str, float] = {
            "requests": 0, "retries": 0, "prompt_tokens": 0, "completion_tokens": 0,
            "total_tokens": 0, "cost_usd": 0.0,
        }

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes get the settings, not the parent's HTTP connection pool.
        return {**self.__dict__, "_sdk": None}

    @classmethod
    def from_params(cls, params: object) -> "OpenAIChatAgent":
        """Build from an ``ExecuteParams`` (the ``teacher_*`` keys)."""
        base_url = getattr(params, "teacher_base_url")
        if not base_url:
            raise ConfigError("teacher 'openai' needs 'execute.teacher_base_url' (e.g. http://127.0.0.1:8000/v1)",
                              where="params.yaml")
        return cls(
            base_url=base_url,
            model=getattr(params, "teacher_model"),
            api_key_env=getattr(params, "teacher_api_key_env"),
            temperature=getattr(params, "teacher_temperature"),
            max_tokens=getattr(params, "teacher_max_tokens"),
            max_retries=getattr(params, "teacher_max_retries"),
            timeout_sec=getattr(params, "teacher_timeout_sec"),
            price_prompt_per_1k=getattr(params, "teacher_price_prompt_per_1k"),
            price_completion_per_1k=getattr(params, "teacher_price_completion_per_1k"),
        )

    # -- the Agent protocol ---------------------------------------------------------------
    def act(self, task: Task, messages: list[Message]) -> str:
        """The next assistant turn, exactly as the endpoint wrote it (parsed by the episode)."""
        return self.complete(messages).content

    # -- HTTP -------------------------------------------------------------------------------
    def _client(self) -> Any:
        """The SDK client, built on first use (importing ``openai`` costs ~0.3 s)."""
        if self._sdk is None:
            import openai

            self._sdk = openai.OpenAI(api_key=self._api_key or _NO_KEY, base_url=self.url[: -len("/chat/completions")],
                                      max_retries=self.max_retries, timeout=self.timeout_sec)
        return self._sdk

    def _extra_headers(self) -> dict[str, Any]:
        if self._api_key:
            return {}
        from openai import Omit

        return {"Authorization": Omit()}

    def complete(self, messages: Sequence[Any], *, temperature: float | None = None,
                 max_tokens: int | None = None) -> Completion:
        """One chat completion for ``messages`` (records or ``{"role", "content"}`` dicts)."""
        import openai

        try:
            raw = self._client().chat.completions.with_raw_response.create(
                model=self.model,
                messages=as_chat_dicts(messages),
                temperature=self.temperature if temperature is None else float(temperature),
                max_tokens=self.max_tokens if max_tokens is None else int(max_tokens),
                extra_headers=self._extra_headers(),
            )
        except openai.APIStatusError as e:
            detail = _error_detail(e)
            if not self._retryable(e.status_code):
                hint = ""
                if e.status_code in (401, 403):
                    hint = f" (check the API key in ${self.api_key_env})"
                elif e.status_code == 404:
                    hint = " (base URL should end before /chat/completions, e.g. .../v1)"
                elif e.status_code in (400, 422):
                    hint = f" (model sent: {self.model!r})"
                raise EnvironmentProblem(f"{self.role} endpoint {self.url} refused the request: "
                                         f"HTTP {e.status_code}: {detail}{hint}") from None
            self.usage["retries"] += self.max_retries
            raise EnvironmentProblem(f"{self.role} endpoint {self.url} unreachable after {self.max_retries + 1} "
                                     f"attempts: HTTP {e.status_code}: {detail}") from None
        except openai.APIConnectionError as e:
            self.usage["retries"] += self.max_retries
            cause = e.__cause__ or e
            raise EnvironmentProblem(f"{self.role} endpoint {self.url} unreachable after {self.max_retries + 1} "
                                     f"attempts: {_one_line(f'{type(cause).__name__}: {cause}')}") from None
        self.usage["retries"] += raw.retries_taken
        try:
            data = json.loads(raw.text)
        except (UnicodeDecodeError, ValueError):
            raise EnvironmentProblem(f"{self.role} endpoint {self.url} answered with something that is not JSON: "
                                     f"{_one_line(raw.text[:120])!r}") from None
        if not isinstance(data, dict):
            raise EnvironmentProblem(f"{self.role} endpoint {self.url} answered with a JSON "
                                     f"{type(data).__name__}, not an object")
        return self._account(data)

    @staticmethod
    def _retryable(status: int) -> bool:
        """The statuses the SDK retries (408, 409, 429, 5xx): failing with one means retries ran out."""
        return status in (408, 409, 429) or status >= 500

    def _account(self, data: dict) -> Completion:
        """Pull the text out of a response and add its token counts to ``usage``."""
        try:
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
            finish = str(choice.get("finish_reason") or "")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise EnvironmentProblem(f"{self.role} endpoint {self.url} answered without choices[0].message: "
                                     f"{_one_line(json.dumps(data)[:160])}")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        self.usage["requests"] += 1
        self.usage["prompt_tokens"] += prompt
        self.usage["completion_tokens"] += completion
        self.usage["total_tokens"] += prompt + completion
        self.usage["cost_usd"] = round(
            self.usage["cost_usd"]
            + prompt / 1000 * self.price_prompt_per_1k
            + completion / 1000 * self.price_completion_per_1k,
            8,
        )
        return Completion(content=str(content), finish_reason=finish, prompt_tokens=prompt,
                          completion_tokens=completion)
