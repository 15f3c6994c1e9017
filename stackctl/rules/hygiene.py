"""Warnings about what drifts or leaks: unpinned images and build contexts, secrets
written inline.

unpinned-image, unpinned-build-context, inline-secret.
"""

from __future__ import annotations

from collections.abc import Iterator

from stackctl import units
from stackctl.model import Secret, Stack
from stackctl.model.build import git_ref, pinned_ref, remote_kind, shown_url
from stackctl.rules.core import WARNING, Finding, Rule, each_stack


def _unpinned_images(stack: Stack) -> Iterator[Finding]:
    """An image without a tag, or ``:latest``, changes whenever it is pushed."""
    for svc in stack.services.values():
        if svc.image is None or svc.build is not None:
            continue  # built here: its tag names what this stack built
        name, tag, digest = units.split_image(svc.image)
        if digest or (tag and tag != "latest"):
            continue
        what = "has no tag, so it means :latest" if tag is None else "uses :latest"
        yield Finding(
            stack,
            f"services.{svc.name}.image",
            f"image '{svc.image}' of service '{svc.name}' {what}; what runs changes whenever "
            "a new image is pushed",
            f"pin a version ({name}:<version>) or a digest ({name}@sha256:...)",
        )


def _unpinned_build_contexts(stack: Stack) -> Iterator[Finding]:
    """A Git build context without ``#<commit or tag>`` builds whatever its branch holds
    when the image is (re)built."""
    for svc in stack.services.values():
        if svc.build is None or remote_kind(svc.build.context) != "git":
            continue
        url = shown_url(svc.build.context)
        ref = git_ref(svc.build.context)
        if pinned_ref(ref):
            continue
        what = "names no ref (its default branch)" if ref is None else f"names the ref {ref!r}"
        repo, _, fragment = url.partition("#")
        sub = fragment.partition(":")[2]
        hint = f"pin a commit or a tag: {repo}#<commit or tag>{':' + sub if sub else ''}"
        if ref is not None:
            hint += f"; if {ref!r} is a tag, acknowledge this warning"
        yield Finding(
            stack,
            f"services.{svc.name}.build.context",
            f"build context '{url}' of service '{svc.name}' {what}, which moves: what is "
            "built depends on when the image is built (stackctl builds it again only when "
            "the URL or the build's options change, or on every apply with "
            "pull_policy: build)",
            hint,
        )


_SECRET_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "KEY", "API_KEY", "PRIVATE")


def looks_like_inline_secret(key: str, value: str | Secret) -> bool:
    """An environment entry whose name says secret but whose value is a plain string.

    ``*_FILE`` variables (``POSTGRES_PASSWORD_FILE=/run/secrets/db``) hold a path, not the
    secret. A value still holding ``${VAR}`` refers to the environment; but the loader
    substitutes variables before validation, so interpolated values are flagged like
    inline ones.
    """
    if isinstance(value, Secret) or not value or "${" in value:
        return False
    name = key.upper()
    return not name.endswith("_FILE") and any(word in name for word in _SECRET_WORDS)


def _inline_secrets(stack: Stack) -> Iterator[Finding]:
    """Secret-looking environment values given as plain strings."""
    for svc in stack.services.values():
        for key, value in svc.environment.items():
            if looks_like_inline_secret(key, value):
                yield Finding(
                    stack,
                    f"services.{svc.name}.environment.{key}",
                    f"{key} looks like a secret but its value is written in the stack "
                    "itself (stackctl hides it in its output, but the file holds it in "
                    "clear, in version control too)",
                    f"take it from the environment or .env (${{{key}}}), use Secret.env("
                    f"{key!r}) in Python, or a secrets: file and {key}_FILE=/run/secrets/...",
                )


RULES: tuple[Rule, ...] = (
    Rule("unpinned-image", WARNING, "image without tag or :latest",
         each_stack(_unpinned_images)),
    Rule("unpinned-build-context", WARNING, "Git build context without a commit or tag",
         each_stack(_unpinned_build_contexts)),
    Rule("inline-secret", WARNING, "secret-looking plain environment value",
         each_stack(_inline_secrets)),
)  # fmt: skip
