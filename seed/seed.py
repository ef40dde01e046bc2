#!/usr/bin/env python3
"""Jodo's bootloader: the first program an agent runs, on its first boot and after a rebirth.

The kernel copies this file into an empty brain and runs it. It asks the kernel (POST /api/think,
intent "code") to write the agent's first application, writes the files it answers with into the
brain, commits them (POST /api/commit) and execs into main.py. It uses the Python 3 standard
library only, and the kernel never modifies it at run time.

Environment (set by the kernel's supervisor):
  JODO_KERNEL_URL    the kernel, e.g. http://127.0.0.1:8080
  JODO_AGENT_TOKEN   this agent's bearer token (scopes think, genesis, commit, ...)
  JODO_AGENT_PORT    the port the application must serve on (its chat UI and GET /health)
  JODO_AGENT_NAME    the agent's name (default "jodo")
  JODO_BRAIN         the brain directory (default: the directory of this file)
  JODO_SEED_ATTEMPTS how many answers to try before giving up (default 3)

The answer format the model is asked for, and the only one accepted:

  === FILE: main.py ===
  <the file's content>
  === END FILE ===

repeated for every file. main.py is required; paths are relative to the brain, without "..";
Python files must compile. An answer that breaks these rules is sent back with what was wrong,
up to JODO_SEED_ATTEMPTS times.

Exit codes: 2 the environment is incomplete, 3 no usable answer, 4 the kernel could not be reached.
"""

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

FILE_BLOCK = re.compile(
    r"^=== FILE: (?P<path>[^\n]+?) ===\n(?P<body>.*?)^=== END FILE ===[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
MAX_FILES = 50
MAX_BYTES = 512 * 1024


class Unusable(Exception):
    """An answer that cannot be used; the message is sent back to the model."""


class KernelUnreachable(Exception):
    pass


def log(message):
    print("seed: " + message, flush=True)


def call(kernel, token, method, path, body=None, timeout=300, tries=5):
    """One kernel API call with JSON in and out; retries connection failures and 5xx with backoff."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    delay = 1.0
    for attempt in range(1, tries + 1):
        request = urllib.request.Request(kernel + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            if e.code < 500 or attempt == tries:
                raise KernelUnreachable(
                    "%s %s answered %d: %s" % (method, path, e.code, detail[:500])
                ) from None
            log("%s %s answered %d; retrying in %.0f s" % (method, path, e.code, delay))
        except (urllib.error.URLError, OSError) as e:
            if attempt == tries:
                raise KernelUnreachable("%s %s failed: %s" % (method, path, e)) from None
            log("%s %s failed (%s); retrying in %.0f s" % (method, path, e, delay))
        time.sleep(delay)
        delay = min(delay * 2, 30)
    raise KernelUnreachable("%s %s: no answer" % (method, path))


def instructions(genesis, name, port, kernel):
    identity = json.dumps(genesis, indent=2, ensure_ascii=False)[:6000]
    system = (
        "You write the first application of an autonomous agent. Answer ONLY with files, each as:\n"
        "=== FILE: <relative path> ===\n<content>\n=== END FILE ===\n"
        "No other text, no Markdown code fences. main.py is required."
    )
    user = (
        "You are writing the first program of the agent '%s'. Its genesis:\n%s\n\n"
        "Write a Python 3 program using the standard library only (no pip packages) that:\n"
        "- starts with `python3 main.py` in its own directory and serves HTTP on 0.0.0.0, port "
        "from the environment variable JODO_AGENT_PORT (it will be %d);\n"
        "- answers GET /health with HTTP 200 and the JSON {\"status\": \"ok\"};\n"
        "- serves at GET / a small web chat page, and at POST /chat takes {\"message\": ...} and "
        "answers {\"reply\": ...} by calling the kernel: POST $JODO_KERNEL_URL/api/think (now %s) "
        "with the header 'Authorization: Bearer $JODO_AGENT_TOKEN' and the JSON "
        "{\"intent\": \"chat\", \"messages\": [{\"role\": \"user\", \"content\": <message>}]}; "
        "the reply is the response's \"content\" field;\n"
        "- never crashes on a bad request, and handles requests in threads.\n"
        % (name, identity, port, kernel)
    )
    return system, user


def parse(answer):
    """The files of an answer, as {path: content}; Unusable says what is wrong."""
    if not isinstance(answer, str) or not answer.strip():
        raise Unusable("the answer was empty")
    files = {}
    for match in FILE_BLOCK.finditer(answer):
        path = match.group("path").strip()
        body = match.group("body")
        normalized = os.path.normpath(path)
        if (
            not path
            or os.path.isabs(path)
            or normalized.startswith("..")
            or "\\" in path
            or normalized in (".", "seed.py")
            or normalized.split(os.sep)[0] == ".git"
        ):
            raise Unusable("the file path %r is not allowed (relative, inside the brain, not "
                           "seed.py or .git)" % path)
        if normalized in files:
            raise Unusable("the file %r appears twice" % path)
        if len(body.encode("utf-8")) > MAX_BYTES:
            raise Unusable("the file %r is larger than %d bytes" % (path, MAX_BYTES))
        if normalized.endswith(".py"):
            try:
                compile(body, normalized, "exec")
            except SyntaxError as e:
                raise Unusable("%s does not compile: %s (line %s)" % (path, e.msg, e.lineno))
        files[normalized] = body
    if not files:
        raise Unusable("the answer has no '=== FILE: <path> ===' ... '=== END FILE ===' blocks")
    if len(files) > MAX_FILES:
        raise Unusable("the answer has %d files; at most %d" % (len(files), MAX_FILES))
    if "main.py" not in files:
        raise Unusable("the answer has no main.py (it has %s)" % ", ".join(sorted(files)))
    return files


def write(brain, files):
    for path, body in sorted(files.items()):
        target = os.path.join(brain, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = target + ".seed-tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(temporary, target)
        log("wrote %s (%d bytes)" % (path, len(body.encode("utf-8"))))


def main():
    kernel = os.environ.get("JODO_KERNEL_URL", "").rstrip("/")
    token = os.environ.get("JODO_AGENT_TOKEN", "")
    port_text = os.environ.get("JODO_AGENT_PORT", "")
    name = os.environ.get("JODO_AGENT_NAME", "jodo")
    brain = os.environ.get("JODO_BRAIN") or os.path.dirname(os.path.abspath(__file__))
    missing = [k for k, v in (("JODO_KERNEL_URL", kernel), ("JODO_AGENT_TOKEN", token),
                              ("JODO_AGENT_PORT", port_text)) if not v]
    if missing:
        log("missing environment: %s (the kernel's supervisor sets them)" % ", ".join(missing))
        return 2
    try:
        port = int(port_text)
        attempts = max(1, int(os.environ.get("JODO_SEED_ATTEMPTS", "3")))
    except ValueError as e:
        log("bad environment: %s" % e)
        return 2

    try:
        genesis = call(kernel, token, "GET", "/api/genesis", timeout=30)
        log("read the genesis of %s" % name)
        system, prompt = instructions(genesis, name, port, kernel)
        messages = [{"role": "user", "content": prompt}]
        files = None
        for attempt in range(1, attempts + 1):
            log("asking the kernel for the first application (attempt %d of %d)"
                % (attempt, attempts))
            answer = call(kernel, token, "POST", "/api/think", {
                "intent": "code", "system": system, "messages": messages, "max_tokens": 8000,
            })
            content = answer.get("content", "")
            try:
                files = parse(content)
                break
            except Unusable as e:
                log("the answer cannot be used: %s" % e)
                messages = messages + [
                    {"role": "assistant", "content": content if content else "(empty)"},
                    {"role": "user", "content": "That answer could not be used: %s. Answer again "
                     "with the complete files, in exactly the required format." % e},
                ]
        if files is None:
            log("no usable answer after %d attempts; giving up" % attempts)
            return 3
        write(brain, files)
        committed = call(kernel, token, "POST", "/api/commit",
                         {"message": "seed: first application (%d files)" % len(files)},
                         timeout=60)
        log("committed %s" % committed.get("hash", "?"))
    except KernelUnreachable as e:
        log("the kernel could not be reached: %s" % e)
        return 4

    log("starting main.py")
    os.chdir(brain)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, os.path.join(brain, "main.py")])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
