#!/usr/bin/env python3
"""Render a man page (roff, section 1) from a Swift ArgumentParser tool's
`--experimental-dump-help` JSON: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, and one
subsection per subcommand with its own options.

    BINARY --experimental-dump-help | scripts/manpage.py VERSION > BINARY.1
"""
import datetime
import json
import sys


def esc(text):
    """Escape roff: backslashes, and a leading dot or quote on a line."""
    text = (text or "").replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + l) if l.startswith((".", "'")) else l for l in text.split("\n"))


def flag_names(arg):
    out = []
    for n in arg.get("names", []):
        dash = "-" if n["kind"] == "short" else "--"
        out.append("\\fB" + esc(dash + n["name"]) + "\\fR")
    return ", ".join(out)


def options(cmd, lines):
    args = [a for a in cmd.get("arguments", []) if a.get("shouldDisplay", True)]
    if not args:
        return
    for a in args:
        if a["kind"] == "positional":
            head = "\\fI" + esc(a.get("valueName", "value")) + "\\fR"
        elif a["kind"] == "flag":
            head = flag_names(a)
        else:
            head = flag_names(a) + " \\fI" + esc(a.get("valueName", "value")) + "\\fR"
        lines += [".TP", head]
        text = a.get("abstract", "")
        if a.get("defaultValue") not in (None, ""):
            text += " (default: " + a["defaultValue"] + ")"
        lines.append(esc(text))


def synopsis(name, cmd):
    parts = ["\\fB" + esc(name) + "\\fR"]
    if cmd.get("subcommands"):
        parts.append("\\fIsubcommand\\fR")
    for a in cmd.get("arguments", []):
        if not a.get("shouldDisplay", True):
            continue
        if a["kind"] == "positional":
            word = "\\fI" + esc(a.get("valueName", "value")) + "\\fR"
        else:
            pref = a.get("preferredName") or a["names"][0]
            word = "\\fB" + esc(("-" if pref["kind"] == "short" else "--") + pref["name"]) + "\\fR"
            if a["kind"] == "option":
                word += " \\fI" + esc(a.get("valueName", "value")) + "\\fR"
        parts.append("[" + word + "]" if a.get("isOptional") else word)
    return " ".join(parts)


def main():
    version = sys.argv[1] if len(sys.argv) > 1 else ""
    root = json.load(sys.stdin)["command"]
    name = root["commandName"]
    date = datetime.date.today().isoformat()
    lines = [
        '.TH "%s" 1 "%s" "%s %s" "Vigie manual"' % (name.upper(), date, name, version),
        ".SH NAME",
        esc(name) + " \\- " + esc(root.get("abstract", "")),
        ".SH SYNOPSIS",
        synopsis(name, root),
    ]
    if root.get("discussion"):
        lines += [".SH DESCRIPTION", esc(root["discussion"])]
    if root.get("arguments"):
        lines.append(".SH OPTIONS")
        options(root, lines)
    subs = [s for s in root.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    if subs:
        lines.append(".SH COMMANDS")
        for sub in subs:
            lines += [".SS " + esc(name + " " + sub["commandName"]), esc(sub.get("abstract", "")), ".PP",
                      synopsis(name + " " + sub["commandName"], sub)]
            if sub.get("discussion"):
                lines += [".PP", esc(sub["discussion"])]
            options(sub, lines)
    lines += [".SH SEE ALSO", "\\fBvigie\\fR(1), \\fBvigied\\fR(1), \\fBvigie-agent\\fR(1)"]
    print("\n".join(lines))


main()
