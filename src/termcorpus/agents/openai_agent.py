"""A teacher agent behind any OpenAI-compatible ``/chat/completions`` endpoint.

Works with hosted APIs and with local servers (``transformers serve``, vLLM, llama.cpp). The
request carries ``model``, ``messages``, ``temperature`` and ``max_tokens`` and nothing else:
some local servers reject fields they do not implement (``transformers serve`` answers 422/400
to ``tool_choice``, ``response_format``, ``n``, ``logprobs``, ``user``, ...), so the client
sends only what every server understands.

Failures, and what happens to them:

* connection refused/reset, timeouts, HTTP 429 and 5xx: retried with exponential backoff
  (``backoff_sec * 2**attempt``, capped at ``max_backoff_sec``; a ``Retry-After`` header is
  honoured up to the same cap), at most ``max_retries`` times; then one
  :class:`~termcorpus.errors.EnvironmentProblem` line naming the endpoint and the last error;
* any other HTTP status (400 wrong model name, 401 bad key, 404 wrong URL): no retry, one line
  with the server's own explanation;
* a reply that is not a Terminus-2 action is *not* a failure here: ``act`` returns the text as
  it came and the episode shows the parse error to the model as its next observation.

Token and cost accounting: every response's ``usage`` is added to :attr:`OpenAIChatAgent.usage`
(``requests``, ``retries``, ``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
``cost_usd`` from per-1k-token prices). The API key is read once, from the environment variable
the caller names, and is never logged, recorded or put in an error message.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Sequence

from termcorpus.train.chat import as_chat_dicts
from termcorpus.errors import ConfigError, EnvironmentProblem
from termcorpus.records import Message, Task

# Statuses worth another try: rate limiting and server-side trouble.
_RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_MAX_DETAIL_CHARS = 200


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




def _retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After: <seconds>`` header (the HTTP-date form is ignored)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_detail(err: urllib.error.HTTPError) -> str:
    """The server's explanation: OpenAI's ``error.message``, FastAPI's ``detail``, or the body."""
    try:
        body = err.read().decode("utf-8", errors="replace")
    except OSError:
        body = ""
    try:
        data = json.loads(body)
    except ValueError:
        return _one_line(body or err.reason or "")
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
        backoff_sec: float = 0.5,
        max_backoff_sec: float = 8.0,
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
        self.backoff_sec = float(backoff_sec)
        self.max_backoff_sec = float(max_backoff_sec)
        self.timeout_sec = float(timeout_sec)
        self.price_prompt_per_1k = float(price_prompt_per_1k)
        self.price_completion_per_1k = float(price_completion_per_1k)
        self.api_key_env = api_key_env
        # Read once here (the agent's entry point); an empty key sends no Authorization header,
        # which is what local servers expect.
        self._api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.usage: dict[str, float] = {
            "requests": 0, "retries": 0, "prompt_tokens": 0, "completion_tokens": 0,
            "total_tokens": 0, "cost_usd": 0.0,
        }

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
    def complete(self, messages: Sequence[Any], *, temperature: float | None = None,
                 max_tokens: int | None = None) -> Completion:
        """One chat completion for ``messages`` (records or ``{"role", "content"}`` dicts)."""
        body = {
            "model": self.model,
            "messages": as_chat_dicts(messages),
            "temperature": self.temperature if temperature is None else float(temperature),
            "max_tokens": self.max_tokens if max_tokens is None else int(max_tokens),
        }
        data = self._post(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        return self._account(data)

    def _post(self, payload: bytes) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.usage["retries"] += 1
            wait: float | None = None
            try:
                req = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout_sec) as resp:
                    raw = resp.read()
                try:
                    data = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise EnvironmentProblem(
                        f"{self.role} endpoint {self.url} answered with something that is not JSON: "
                        f"{_one_line(raw[:120].decode('utf-8', 'replace'))!r}")
                if not isinstance(data, dict):
                    raise EnvironmentProblem(f"{self.role} endpoint {self.url} answered with a JSON "
                                             f"{type(data).__name__}, not an object")
                return data
            except urllib.error.HTTPError as e:
                detail = _error_detail(e)
                if e.code not in _RETRY_STATUSES:
                    hint = ""
                    if e.code in (401, 403):
                        hint = f" (check the API key in ${self.api_key_env})"
                    elif e.code == 404:
                        hint = " (base URL should end before /chat/completions, e.g. .../v1)"
                    elif e.code in (400, 422):
                        hint = f" (model sent: {self.model!r})"
                    raise EnvironmentProblem(f"{self.role} endpoint {self.url} refused the request: "
                                             f"HTTP {e.code}: {detail}{hint}")
                last = f"HTTP {e.code}: {detail}"
                wait = _retry_after(e.headers)
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException, socket.timeout,
                    TimeoutError) as e:
                reason = getattr(e, "reason", None) or e
                last = _one_line(f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason)
            if attempt < self.max_retries:
                backoff = min(self.backoff_sec * (2 ** attempt), self.max_backoff_sec)
                time.sleep(min(wait, self.max_backoff_sec) if wait is not None else backoff)
        raise EnvironmentProblem(
            f"{self.role} endpoint {self.url} unreachable after {self.max_retries + 1} attempts: {last}")

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
