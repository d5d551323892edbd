"""The one sanitizer: Markdown from users becomes HTML only through `render_markdown`."""

import threading

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

_ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
# No javascript:, data: or vbscript: links: only these schemes survive (relative links too).
_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


_converters = threading.local()


def _converter() -> markdown_lib.Markdown:
    """This thread's converter. Building one costs several times what converting a reply does, and a converter keeps
    state while it converts, so each thread (gunicorn's workers have several) keeps its own and resets it before use."""
    converter: markdown_lib.Markdown | None = getattr(_converters, "markdown", None)
    if converter is None:
        converter = markdown_lib.Markdown(extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
        _converters.markdown = converter
    return converter


def render_markdown(text: str) -> SafeString:
    html = _converter().reset().convert(text)
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - the output of nh3 with an allow-list is the definition of safe here
