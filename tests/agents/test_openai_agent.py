"""OpenAIChatAgent's HTTP side against a small real HTTP server (the ``openai_stub`` fixture).

The stub answers from a script (status, headers, body) and records each request, so the
request fields, the retry policy and the error lines can be checked without a model. The agent
against a real ``transformers serve`` lives in test_openai_agent_served.py.
"""

from __future__ import annotations

import time

import pytest

from termcorpus.agents.base import Agent
from termcorpus.agents.openai_agent import OpenAIChatAgent
from termcorpus.errors import ConfigError, EnvironmentProblem
from termcorpus.params import ExecuteParams
from termcorpus.records import Message, Task

TASK = Task(id="t", family="t", source="seed", domain="file_operations", instruction="Do it.",
            tests={"test.sh": "exit 0\n"})
CHAT = [Message(role="user", content="Task: Do it.")]


def agent_for(url: str, **kw) -> OpenAIChatAgent:
    return OpenAIChatAgent(base_url=url, model="tiny", **kw)


def test_agent_satisfies_the_agent_protocol():
    assert isinstance(agent_for("http://127.0.0.1:1/v1"), Agent)


def test_request_carries_only_portable_fields_and_the_key(monkeypatch, openai_stub):
    monkeypatch.setenv("TC_TEST_KEY", "sk-secret")
    with openai_stub([(200, {}, openai_stub.completion('{"commands":[]}'))]) as srv:
        agent = agent_for(srv.base_url, api_key_env="TC_TEST_KEY", temperature=0.3, max_tokens=77)
        assert agent.act(TASK, CHAT) == '{"commands":[]}'
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert set(req["body"]) == {"model", "messages", "temperature", "max_tokens"}
    assert req["body"] == {"model": "tiny", "messages": [{"role": "user", "content": "Task: Do it."}],
                           "temperature": 0.3, "max_tokens": 77}
    assert req["headers"]["authorization"] == "Bearer sk-secret"


def test_no_authorization_header_without_a_key(monkeypatch, openai_stub):
    monkeypatch.delenv("TC_TEST_KEY", raising=False)
    with openai_stub([(200, {}, openai_stub.completion("x"))]) as srv:
        agent_for(srv.base_url, api_key_env="TC_TEST_KEY").act(TASK, CHAT)
    assert "authorization" not in srv.requests[0]["headers"]  # header names recorded lower-case


def test_usage_and_cost_are_summed_over_requests(openai_stub):
    script = [(200, {}, openai_stub.completion("a", 1000, 500)), (200, {}, openai_stub.completion("b", 2000, 0))]
    with openai_stub(script) as srv:
        agent = agent_for(srv.base_url, price_prompt_per_1k=0.5, price_completion_per_1k=1.5)
        agent.act(TASK, CHAT)
        agent.act(TASK, CHAT)
    assert agent.usage == {"requests": 2, "retries": 0, "prompt_tokens": 3000, "completion_tokens": 500,
                           "total_tokens": 3500, "cost_usd": 2.25}


def test_malformed_model_text_is_returned_verbatim(openai_stub):
    # Parsing (and feeding the error back) is the episode's job, not the client's.
    with openai_stub([(200, {}, openai_stub.completion("I think I should run ls"))]) as srv:
        assert agent_for(srv.base_url).act(TASK, CHAT) == "I think I should run ls"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retryable_statuses_are_retried_with_backoff(status, openai_stub):
    # retry-after-ms: the server asks for a 5 ms wait, which the SDK honours instead of its backoff
    busy = (status, {"retry-after-ms": "5"}, {"error": {"message": "busy"}})
    script = [busy, busy, (200, {}, openai_stub.completion("ok"))]
    with openai_stub(script) as srv:
        agent = agent_for(srv.base_url, max_retries=3)
        assert agent.act(TASK, CHAT) == "ok"
    assert len(srv.requests) == 3
    assert agent.usage["retries"] == 2 and agent.usage["requests"] == 1


def test_retries_are_bounded_and_end_in_one_line(openai_stub):
    with openai_stub([(503, {"retry-after-ms": "5"}, {"detail": "overloaded"})]) as srv:
        agent = agent_for(srv.base_url, max_retries=2)
        with pytest.raises(EnvironmentProblem) as err:
            agent.act(TASK, CHAT)
    assert len(srv.requests) == 3
    msg = str(err.value)
    assert "\n" not in msg and "after 3 attempts" in msg and "HTTP 503: overloaded" in msg


def test_client_errors_are_not_retried_and_quote_the_server(openai_stub):
    detail = {"detail": "Server is pinned to '/ckpt'; requested 'tiny'."}
    with openai_stub([(400, {}, detail)]) as srv:
        with pytest.raises(EnvironmentProblem) as err:
            agent_for(srv.base_url, max_retries=5).act(TASK, CHAT)
    assert len(srv.requests) == 1
    assert "HTTP 400: Server is pinned to '/ckpt'" in str(err.value) and "'tiny'" in str(err.value)


def test_auth_error_names_the_env_var_but_never_the_key(monkeypatch, openai_stub):
    monkeypatch.setenv("TC_TEST_KEY", "sk-do-not-print")
    with openai_stub([(401, {}, {"error": {"message": "invalid api key"}})]) as srv:
        with pytest.raises(EnvironmentProblem) as err:
            agent_for(srv.base_url, api_key_env="TC_TEST_KEY").act(TASK, CHAT)
    assert "$TC_TEST_KEY" in str(err.value) and "sk-do-not-print" not in str(err.value)


def test_a_body_that_is_not_json_is_an_environment_problem(openai_stub):
    with openai_stub([(200, {}, "<html>proxy error</html>")]) as srv:
        with pytest.raises(EnvironmentProblem, match="not JSON"):
            agent_for(srv.base_url).act(TASK, CHAT)


def test_a_response_without_choices_is_an_environment_problem(openai_stub):
    with openai_stub([(200, {}, {"object": "error"})]) as srv:
        with pytest.raises(EnvironmentProblem, match="choices"):
            agent_for(srv.base_url).act(TASK, CHAT)


def test_closed_port_fails_fast_with_one_line():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    agent = agent_for(f"http://127.0.0.1:{port}/v1", max_retries=2)
    start = time.perf_counter()
    with pytest.raises(EnvironmentProblem) as err:
        agent.act(TASK, CHAT)
    elapsed = time.perf_counter() - start
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"teacher endpoint http://127.0.0.1:{port}/v1/chat/completions unreachable after 3 attempts")
    assert "refused" in msg.lower()
    assert elapsed < 3.0  # the SDK's backoff: about 0.5 + 1.0 s, less jitter
    assert agent.usage["retries"] == 2


def test_from_params_builds_the_agent_and_requires_a_url():
    params = ExecuteParams(teacher="openai", teacher_base_url="http://127.0.0.1:9/v1", teacher_model="m",
                           teacher_max_retries=1, teacher_max_tokens=64)
    agent = OpenAIChatAgent.from_params(params)
    assert (agent.url, agent.model, agent.max_retries, agent.max_tokens) == (
        "http://127.0.0.1:9/v1/chat/completions", "m", 1, 64)
    with pytest.raises(ConfigError, match="teacher_base_url"):
        OpenAIChatAgent.from_params(ExecuteParams(teacher="openai"))


@pytest.mark.parametrize("kw", [{"base_url": "127.0.0.1:8000"}, {"model": ""}, {"max_tokens": 0}])
def test_bad_settings_are_config_errors(kw):
    args = {"base_url": "http://127.0.0.1:1/v1", "model": "m", **kw}
    with pytest.raises(ConfigError):
        OpenAIChatAgent(**args)
