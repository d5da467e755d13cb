"""The OpenAI API's requests (completions, chat completions, embeddings) as pydantic models, and
its error shape: the one definition of the parameters that ``Model.create_completion`` and
friends take as keywords and ``rwkv-gpu serve`` takes as JSON.

Types are checked strictly (``"0.5"`` is not a number); ranges are the engine's
(``SamplingParams`` rejects what it cannot run), so they are not repeated here. Fields the
OpenAI API has and this engine cannot honour are accepted only at their neutral value (``n=1``,
``best_of=1``, ...) and rejected clearly otherwise; fields it does not know are ignored by the
server, as OpenAI-compatible servers do, and a TypeError from Python.
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# A prompt or embedding input: text, texts, token ids, or lists of token ids.
Inputs = Union[str, list[str], list[int], list[list[int]]]


class OpenAIError(ValueError):
    """A request the engine cannot run, in OpenAI's terms: ``to_dict()`` is the JSON body the server
    sends (``{"error": {"message", "type", "param", "code"}}``) with HTTP ``status``."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None, status: int = 400,
                 type: str = "invalid_request_error"):
        super().__init__(message)
        self.message, self.param, self.code, self.status, self.type = message, param, code, status, type

    def to_dict(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def validation_error(e: ValidationError) -> OpenAIError:
    """The first problem pydantic found, named by its parameter path (``messages.0.role``)."""
    first = e.errors()[0]
    loc = [str(p) for p in first["loc"] if not (isinstance(p, str) and ("[" in p or p in ("str", "int")))]
    param = ".".join(loc) or None
    return OpenAIError(f"{param}: {first['msg']}" if param else first["msg"], param=param, code="invalid_value")


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    model: str | None = None
    user: str | None = None

    @classmethod
    def parse(cls, fields: dict[str, Any], *, from_python: bool):
        """Validated fields; OpenAIError for a wrong type, and (from Python) TypeError for a keyword
        the API does not have."""
        try:
            req = cls.model_validate(fields)
        except ValidationError as e:
            raise validation_error(e) from None
        if from_python and req.model_extra:
            raise TypeError(f"unexpected keyword argument {next(iter(req.model_extra))!r}")
        return req


class StreamOptions(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    include_usage: bool = False


class _Sampling(_Request):
    """The sampling settings (``SamplingParams``' fields; None: the engine's default), stop
    strings, length and streaming, shared by completions and chat completions."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None  # extension (llama.cpp, vLLM)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    penalty_decay: float | None = None  # extension: the RWKV pipeline's decay of the penalty counts
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = 1
    logit_bias: dict[str, float] | None = None

    def unsupported(self) -> list[tuple[str, str]]:
        """(param, why) for every field set to something the engine cannot do."""
        out = []
        if self.n != 1:
            out.append(("n", "only n=1 is supported (send the request again, or one prompt per choice)"))
        if self.logit_bias:
            out.append(("logit_bias", "logit_bias is not supported"))
        return out


class CompletionRequest(_Sampling):
    """``POST /v1/completions``; ``prompt`` may be several prompts (one choice each)."""

    prompt: Inputs
    logprobs: int | None = Field(default=None, ge=0, le=20)
    echo: bool = False
    best_of: int | None = None
    suffix: str | None = None

    def unsupported(self) -> list[tuple[str, str]]:
        out = super().unsupported()
        if self.echo and self.stream:
            out.append(("echo", "echo is not supported with stream"))
        if self.best_of not in (None, 1):
            out.append(("best_of", "only best_of=1 is supported"))
        if self.suffix:
            out.append(("suffix", "suffix (insertion) is not supported"))
        return out


class TextPart(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    role: str
    content: str | list[TextPart] | None = None
    name: str | None = None


class ResponseFormat(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    type: str


class ChatCompletionRequest(_Sampling):
    """``POST /v1/chat/completions``."""

    messages: list[ChatMessage]
    max_completion_tokens: int | None = None  # the newer name of max_tokens
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[Any] | None = None

    def unsupported(self) -> list[tuple[str, str]]:
        out = super().unsupported()
        if self.response_format is not None and self.response_format.type != "text":
            out.append(("response_format", "only response_format {'type': 'text'} is supported"))
        if self.tools:
            out.append(("tools", "tools (function calling) are not supported"))
        return out


class EmbeddingRequest(_Request):
    """``POST /v1/embeddings``."""

    input: Inputs
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
