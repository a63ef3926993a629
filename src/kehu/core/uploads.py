"""Uploads: stopped at the size limit while they stream in, and checked by their content.

- `AttachmentLimitUploadHandler` (first in FILE_UPLOAD_HANDLERS) stops reading a request
  the moment one uploaded file passes KEHU_ATTACHMENT_MAX_BYTES, so an oversized upload is
  never received in full, and raises `UploadTooLarge` naming the file, the bytes received
  so far and the limit.
- `UploadTooLarge` is a `RequestDataTooBig`, like Django's own error for a body over
  DATA_UPLOAD_MAX_MEMORY_SIZE: the API answers both with 413 in its error shape
  (`kehu.api.errors`), the web with a page saying what was too large
  (`UploadLimitMiddleware`). `too_large_errors` words both the same way.
- `content_problem` compares what a file holds (magic bytes, with puremagic) with the
  type its extension declares.

Core imports no app: what the files are for is the callers' business.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from typing import IO, Any

import puremagic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kehu.core.views import is_partial

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def attachment_max_bytes() -> int:
    return getattr(settings, "KEHU_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


# --- the size limit, while the body streams in ---------------------------------------


class UploadTooLarge(RequestDataTooBig):
    """One uploaded file passed the limit; reading the request stopped there."""

    def __init__(self, *, field: str, name: str, received: int, limit: int):
        self.field, self.name, self.received, self.limit = field, name, received, limit
        super().__init__(f"upload {name!r} in {field!r} passed {limit} bytes ({received} read)")

    def message(self) -> str:
        # Worded when answered, so it is in the language of whoever reads it.
        return _("文件“%(name)s”超过大小上限 %(limit)s：已收到 %(received)s 时停止接收") % {
            "name": self.name, "limit": human_size(self.limit),
            "received": human_size(self.received)}


class AttachmentLimitUploadHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive and stops the request at the limit.

    Listed before Django's memory and temporary-file handlers, it sees every chunk first;
    raising (rather than StopUpload, which would hand a view a silently truncated form)
    means no caller can mistake a cut-off request for a complete one.
    """

    def new_file(self, field_name: str, file_name: str, content_type: str,
                 content_length: int | None, charset: str | None = None,
                 content_type_extra: dict | None = None) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset,
                         content_type_extra)
        self.limit = attachment_max_bytes()
        if content_length is not None and content_length > self.limit:
            self._refuse(content_length)  # the part says its size: not one byte more

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        received = start + len(raw_data)
        if received > self.limit:
            self._refuse(received)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file

    def _refuse(self, received: int) -> None:
        request = self.request
        if request is not None:
            # Let the other handlers drop the partial file (the temporary one deletes it),
            # and mark the form as unreadable so nothing parses the half-read stream again.
            for handler in getattr(request, "upload_handlers", []):
                if handler is not self:
                    handler.upload_interrupted()
            request._mark_post_parse_error()
        raise UploadTooLarge(field=self.field_name, name=self.file_name or "",
                             received=received, limit=self.limit)


def too_large_errors(request: HttpRequest, exc: RequestDataTooBig) -> list[dict[str, str]]:
    """[{"field", "message"}] for an over-limit file or body."""
    if isinstance(exc, UploadTooLarge):
        return [{"field": exc.field, "message": exc.message()}]
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = int(request.META.get("CONTENT_LENGTH") or 0)
    if limit is not None and size > limit:
        message = _("请求内容为 %(size)s，超过上限 %(limit)s") % {
            "size": human_size(size), "limit": human_size(limit)}
    elif limit is not None:
        message = _("请求内容超过上限 %(limit)s") % {"limit": human_size(limit)}
    else:
        message = _("请求内容太大")
    return [{"field": "__all__", "message": message}]


class UploadLimitMiddleware:
    """The web's answer to a body over a limit: a page (413) that says what was too large.

    Listed just before CsrfViewMiddleware: its `process_view` reads the form first (the CSRF
    check would read it next), while the user and the language are already known. The API
    (views exempt from CSRF, URL namespace "api") reads its own bodies and answers in its
    own error shape.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        match = request.resolver_match
        if (request.method != "POST" or getattr(view_func, "csrf_exempt", False)
                or (match is not None and "api" in match.namespaces)):
            return None
        try:
            request.POST  # noqa: B018 -- parse now, under the upload handlers' limits
        except RequestDataTooBig as exc:
            errors = [e["message"] for e in too_large_errors(request, exc)]
            if is_partial(request):
                # HTMX swaps only 2xx answers (like the forms' inline errors): the message
                # goes on top of the page and the form keeps what was typed.
                response = render(request, "errors/too_large_flash.html", {"errors": errors})
                response["HX-Retarget"] = "#main"
                response["HX-Reswap"] = "afterbegin"
                return response
            return render(request, "errors/too_large.html", {"errors": errors}, status=413)
        return None


# --- the content against the declared type ------------------------------------------

# Extensions puremagic can recognise: a file declaring one of them must be recognised as it.
_KNOWN = {m.extension.lstrip(".").lower()
          for m in [*puremagic.magic_header_array, *puremagic.magic_footer_array,
                    *(m for ms in puremagic.multi_part_dict.values() for m in ms)]
          if m.extension}
# Plain text has no magic bytes (see _text_problem).
TEXT_TYPES = {"txt", "csv", "tsv", "log", "md"}
# What a file must not turn out to be when its extension cannot be checked (text, or an
# extension puremagic does not know): a browser or a mail client would render or run it.
_ACTIVE = {"html", "htm", "xhtml", "shtml", "svg", "svgz", "xml", "xsl", "xslt", "js", "mjs",
           "php", "exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "jar", "swf"}
# The openings browsers sniff as HTML (WHATWG MIME sniffing), plus XML, SVG and PHP.
_MARKUP_OPENINGS = ("<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div",
                    "<font", "<table", "<a ", "<a>", "<style", "<title", "<b ", "<b>",
                    "<body", "<br", "<p ", "<p>", "<!--", "<?xml", "<svg", "<?php", "<object",
                    "<embed", "<meta", "<link", "<img", "<form")
_TEXT_DECODINGS = ("utf-8-sig", "gb18030")  # Excel in China saves CSV as GBK


def content_problem(name: str, extension: str, stream: IO[bytes]) -> str | None:
    """Why the content does not fit the declared extension (a message), or None.

    The extension is the declaration that counts: the Content-Type a client sends is
    derived from it (or from the sender's OS: Excel's CSV arrives as
    application/vnd.ms-excel) and says nothing more. Binary types must be recognised by
    their magic bytes as the extension they declare (a .docx is a zip, so zip-based
    formats accept each other's bytes: puremagic cannot tell them apart without unpacking
    them). Text types must be text (see `_text_problem`). An extension puremagic does not
    know is accepted unless the content is markup, a script or a program.
    """
    if _is_empty(stream):
        return _("文件“%(name)s”是空的") % {"name": name}
    matches = _matches(stream)
    found = {m.extension.lstrip(".").lower() for m in matches}
    if extension in TEXT_TYPES or _is_text_type(extension):
        problem = _text_problem(stream, matches)
    elif extension in _KNOWN:
        problem = None if extension in found or _jpeg(extension, found) else "mismatch"
    else:
        problem = "mismatch" if found & _ACTIVE else None
    if problem is None:
        return None
    if problem == "not_text":
        return _("文件“%(name)s”不是 .%(ext)s 文本：无法按 UTF-8、UTF-16 或 GB18030 读取，"
                 "或含有控制字符") % {"name": name, "ext": extension}
    looks = _looks_like(matches) or (
        _("HTML、XML 或脚本") if problem == "markup" else _("无法识别的内容"))
    return _("文件“%(name)s”的内容与扩展名 .%(ext)s 不符：看起来是 %(looks)s") % {
        "name": name, "ext": extension, "looks": looks}


def _is_empty(stream: IO[bytes]) -> bool:
    stream.seek(0)
    empty = not stream.read(1)
    stream.seek(0)
    return empty


def _matches(stream: IO[bytes]) -> list[puremagic.PureMagicWithConfidence]:
    stream.seek(0)
    try:
        return puremagic.magic_stream(stream)
    except (puremagic.PureError, ValueError):  # nothing recognised
        return []
    finally:
        stream.seek(0)


def _looks_like(matches: list) -> str:
    best = next((m for m in matches if m.extension), None)
    return f"{best.name.strip()} ({best.extension})" if best else ""


def _jpeg(extension: str, found: set[str]) -> bool:
    return extension in ("jpg", "jpeg") and bool(found & {"jpg", "jpeg", "jpe", "jfif"})


def _is_text_type(extension: str) -> bool:
    guessed = mimetypes.guess_type(f"x.{extension}")[0] or ""
    return guessed.startswith("text/") and extension not in _ACTIVE


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _text_problem(stream: IO[bytes], matches: list) -> str | None:
    """Plain text (txt, csv) has no magic bytes, so "is it what it says" becomes:

    - it decodes as text: UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's
      "Unicode text") or GB18030 (GBK: what Excel in China saves CSV as), with no control
      characters besides tab, line and page breaks — a program or an archive renamed
      .txt fails here, on its NUL bytes;
    - it does not open like markup or a script (HTML, SVG, XML, PHP, #!) nor carry another
      format's signature (%PDF, GIF89a, Rar!…): a browser or a mail client would render
      or run those, and a text file has no reason to start like one. (Short two-byte
      signatures such as "BM" or "MZ" weigh too little to count: "BMW 客户" is text.)
    """
    stream.seek(0)
    raw = stream.read()
    stream.seek(0)
    text = _decode(raw)
    if text is None or _CONTROL.search(text):
        return "not_text"
    opening = text.lstrip("\ufeff \t\r\n").lower()
    if opening.startswith(_MARKUP_OPENINGS) or opening.startswith("#!"):
        return "markup"
    if any(m.confidence >= 0.4 and m.extension.lstrip(".").lower() not in ("", "txt", "csv")
           for m in matches):
        return "mismatch"
    return None


def _decode(raw: bytes) -> str | None:
    encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else _TEXT_DECODINGS
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
