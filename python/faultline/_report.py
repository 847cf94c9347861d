"""The report as Python objects, built from the ``faultline/report@1`` JSON
(docs/report.md). Fields the report gains later stay reachable through
``to_dict()`` and each object's ``raw``."""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional


@dataclass(frozen=True)
class Evidence:
    """A piece of the input a diagnosis rests on (text already masked)."""

    source: str
    line: int
    column: int
    text: str
    label: str


@dataclass(frozen=True)
class Diagnosis:
    """A likely cause of a failure, from one rule."""

    rule: str
    title: str
    severity: str
    """``error``, ``warning`` or ``info``."""
    confidence: float
    provider: Optional[str]
    incident: Optional[int]
    """Id of the incident it explains; ``None`` for a note on the whole input."""
    source: Optional[str]
    line: Optional[int]
    column: Optional[int]
    cause: str
    fix: str
    check: Optional[str]
    not_: List[str]
    """The report's ``not``: what this is not, and how to tell."""
    docs: List[str]
    evidence: List[Evidence]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Diagnosis":
        return cls(
            rule=d.get("rule", ""),
            title=d.get("title", ""),
            severity=d.get("severity", "info"),
            confidence=float(d.get("confidence") or 0.0),
            provider=d.get("provider"),
            incident=d.get("incident"),
            source=d.get("source"),
            line=d.get("line"),
            column=d.get("column"),
            cause=d.get("cause", ""),
            fix=d.get("fix", ""),
            check=d.get("check"),
            not_=list(d.get("not") or []),
            docs=list(d.get("docs") or []),
            evidence=[
                Evidence(
                    source=e.get("source", ""),
                    line=e.get("line", 0),
                    column=e.get("column", 0),
                    text=e.get("text", ""),
                    label=e.get("label", ""),
                )
                for e in d.get("evidence") or []
            ],
            raw=d,
        )

    def summary(self) -> str:
        """Title, fix and first source, for appending to a traceback or log."""
        lines = [f"faultline: {self.title} [{self.rule}, {self.severity}, {self.confidence:.0%}]"]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        if self.docs:
            lines.append(f"  docs: {self.docs[0]}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Incident:
    """One failing call (or failure) found in the input."""

    id: int
    source: str
    line: int
    column: int
    end_line: int
    method: Optional[str]
    url: Optional[str]
    status: Optional[int]
    endpoint: Optional[str]
    provider: Optional[str]
    region: Optional[str]
    error: Optional[str]
    exception: Optional[str]
    headline: str
    repeats: int
    explained: bool
    diagnoses: List[Diagnosis]
    """Its diagnoses, best first."""
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any], diagnoses: List[Diagnosis]) -> "Incident":
        g = d.get
        return cls(
            id=g("id", 0), source=g("source", ""), line=g("line", 0), column=g("column", 0),
            end_line=g("end_line", 0), method=g("method"), url=g("url"), status=g("status"),
            endpoint=g("endpoint"), provider=g("provider"), region=g("region"), error=g("error"),
            exception=g("exception"), headline=g("headline", ""), repeats=g("repeats", 0),
            explained=bool(g("explained")),
            diagnoses=[x for x in diagnoses if x.incident == g("id")],
            raw=d,
        )


@dataclass(frozen=True)
class Problem:
    """An input that could not be read, or a rule file that did not load."""

    kind: str
    severity: str
    code: str
    source: str
    line: Optional[int]
    message: str

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Problem":
        return cls(
            kind=d.get("kind", ""), severity=d.get("severity", ""), code=d.get("code", ""),
            source=d.get("source", ""), line=d.get("line"), message=d.get("message", ""),
        )


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class Report:
    """What faultline found: incidents (failing calls), their diagnoses
    (likely causes, best first) and problems. Every text in it is masked.

    ``str(report)`` is the plain human report the command line prints;
    in Jupyter the report renders as HTML; ``to_dict()`` is the
    ``faultline/report@1`` JSON document.
    """

    def __init__(self, data: Dict[str, Any], human: Optional[Callable[[], str]] = None):
        self._data = data
        self._human = human
        self._human_text: Optional[str] = None
        self.diagnoses: List[Diagnosis] = [Diagnosis.from_dict(d) for d in data.get("diagnoses") or []]
        self.incidents: List[Incident] = [
            Incident.from_dict(i, self.diagnoses) for i in data.get("incidents") or []
        ]
        self.problems: List[Problem] = [Problem.from_dict(p) for p in data.get("problems") or []]

    @property
    def top(self) -> Optional[Diagnosis]:
        """The best diagnosis of a failing call (the first incident's first,
        by the engine's ranking), else the first note, else ``None``."""
        for incident in self.incidents:
            if incident.diagnoses:
                return incident.diagnoses[0]
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def failed(self) -> bool:
        """True when an error-severity diagnosis was found (the CLI's exit 1)."""
        return any(d.severity == "error" for d in self.diagnoses)

    def to_dict(self) -> Dict[str, Any]:
        """The report as the ``faultline/report@1`` JSON document (a copy)."""
        return copy.deepcopy(self._data)

    def __str__(self) -> str:
        if self._human_text is None:
            self._human_text = self._human() if self._human else self._plain()
        return self._human_text

    def _plain(self) -> str:
        return "\n\n".join(d.summary() for d in self.diagnoses) or "faultline: nothing found"

    def __repr__(self) -> str:
        top = self.top
        what = f"top={top.rule!r}" if top else "no diagnosis"
        return f"<faultline.Report {len(self.incidents)} incidents, {len(self.diagnoses)} diagnoses, {what}>"

    def _repr_html_(self) -> str:
        e = html.escape
        out = ['<div class="faultline-report">']
        if not self.incidents and not self.diagnoses:
            out.append("<p>faultline: no failing call found.</p>")
        notes = [d for d in self.diagnoses if d.incident is None]
        for incident in self.incidents:
            where = f"{incident.source}:{incident.line}"
            out.append(f"<h4>{e(incident.headline)} <small>({e(where)})</small></h4>")
            if not incident.diagnoses:
                out.append("<p><em>No rule explains this failure.</em></p>")
            out.extend(_diagnosis_html(d) for d in incident.diagnoses)
        if notes:
            out.append("<h4>Notes on the input</h4>")
            out.extend(_diagnosis_html(d) for d in notes)
        for p in self.problems:
            out.append(f"<p><b>{e(p.severity)}</b> {e(p.code)}: {e(p.source)}: {e(p.message)}</p>")
        out.append("</div>")
        return "\n".join(out)


_COLOURS = {"error": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}


def _diagnosis_html(d: Diagnosis) -> str:
    e = html.escape
    colour = _COLOURS.get(d.severity, "#555")
    parts = [
        '<details open style="margin:0 0 .6em 1em">',
        f'<summary><b style="color:{colour}">{e(d.severity)}</b> {e(d.title)} '
        f"<small>({d.confidence:.0%}, <code>{e(d.rule)}</code>)</small></summary>",
        f"<p>{e(d.cause)}</p>",
    ]
    if d.evidence:
        parts.append("<ul>")
        for ev in d.evidence:
            parts.append(
                f"<li><code>{e(ev.source)}:{ev.line}:{ev.column}</code> "
                f"<code>{e(ev.text)}</code> — {e(ev.label)}</li>"
            )
        parts.append("</ul>")
    if d.fix:
        parts.append(f"<p><b>Fix:</b> {e(d.fix)}</p>")
    if d.check:
        parts.append(f"<p><b>Check:</b> {e(d.check)}</p>")
    for n in d.not_:
        parts.append(f"<p><b>Not:</b> {e(n)}</p>")
    if d.docs:
        links = ", ".join(
            f'<a href="{e(u)}" target="_blank" rel="noopener">{e(u)}</a>'
            if u.startswith(("https://", "http://")) else e(u)
            for u in d.docs
        )
        parts.append(f"<p><b>Sources:</b> {links}</p>")
    parts.append("</details>")
    return "\n".join(parts)
