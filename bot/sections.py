"""The post-mortem's written sections and their fields, with the seed template's own prompts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    prompt: str  # the template's guidance, shown as the hint and kept in the draft while empty
    multiline: bool = True


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[Field, ...]

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


def _f(key: str, label: str, prompt: str, multiline: bool = True) -> Field:
    return Field(key, label, prompt, multiline)


SECTIONS: tuple[Section, ...] = (
    Section(
        "summary",
        "Executive Summary",
        (
            _f(
                "text",
                "Executive summary",
                "2-3 paragraphs for non-technical stakeholders: what happened; impact (users, "
                "revenue, reputation); root cause in simple terms; what we're doing to prevent it",
            ),
        ),
    ),
    Section(
        "description",
        "What Happened (Detailed)",
        (
            _f(
                "text",
                "What happened",
                "Comprehensive technical explanation of the incident: what functionality broke, "
                "what error messages users saw, what logs showed, what monitoring detected",
            ),
        ),
    ),
    Section(
        "impact",
        "Impact Analysis",
        (
            _f("users_total", "Users: total affected", "number", False),
            _f("user_segments", "Users: segments", "which types of users", False),
            _f("geography", "Users: geographic distribution", "if relevant", False),
            _f(
                "duration",
                "Users: duration of impact",
                "how long users were affected (left empty: computed from the timeline)",
                False,
            ),
            _f("revenue_loss", "Business: revenue loss", "$amount or estimate", False),
            _f("support_tickets", "Business: support tickets", "number created", False),
            _f("cancellations", "Business: cancellations", "if any", False),
            _f("sla_credits", "Business: SLA credits", "$amount if applicable", False),
            _f("reputation", "Business: reputation", "media coverage, social sentiment", False),
            _f("teams", "Engineering: teams involved", "which teams responded", False),
            _f(
                "engineer_hours",
                "Engineering: engineer hours",
                "total time spent on incident",
                False,
            ),
            _f("opportunity_cost", "Engineering: opportunity cost", "what work was delayed", False),
        ),
    ),
    Section(
        "root_cause",
        "Technical Root Cause",
        (
            _f(
                "text",
                "Technical root cause",
                "Deep technical explanation - code, architecture, deployment, etc.",
            ),
            _f("code_issue", "Code issue", "Specific code that caused the problem, with examples"),
            _f(
                "why_existed",
                "Why it existed",
                "How did this code/config/deployment get into production?",
            ),
            _f("why_tests", "Why tests didn't catch it", "What was the gap in test coverage?"),
        ),
    ),
    Section(
        "contributing",
        "Contributing Factors",
        tuple(
            field
            for n in (1, 2, 3)
            for field in (
                _f(
                    f"factor{n}",
                    f"Factor {n}",
                    (
                        "e.g., Missing monitoring for this scenario",
                        "e.g., Tight coupling in code",
                        "e.g., Deployment at high-traffic time",
                    )[n - 1],
                    False,
                ),
                _f(
                    f"how{n}",
                    f"Factor {n}: how it contributed",
                    ("Made detection slower", "Made fix more complex", "Magnified user impact")[
                        n - 1
                    ],
                    False,
                ),
                _f(
                    f"why{n}",
                    f"Factor {n}: why it existed",
                    ("Monitoring not prioritized", "Technical debt", "No deployment policy")[n - 1],
                    False,
                ),
            )
        ),
    ),
    Section(
        "five_whys",
        "Five Whys Analysis",
        (
            _f("problem", "Problem statement", "The incident in one sentence", False),
            *(
                _f(f"why{n}", f"Why {n}", prompt)
                for n, prompt in enumerate(
                    (
                        "Why did [problem] happen?",
                        "Why did [answer from #1] happen?",
                        "Why did [answer from #2] happen?",
                        "Why did [answer from #3] happen?",
                        "Why did [answer from #4] happen? (the root cause revealed)",
                    ),
                    start=1,
                )
            ),
        ),
    ),
    Section(
        "went_well",
        "What Went Well",
        (
            _f("detection", "Detection", "How we found out about the issue - what worked"),
            _f("response", "Response", "What went smoothly during the incident response"),
            _f("communication", "Communication", "How internal/external communication worked"),
            _f("remediation", "Remediation", "What made the fix process effective"),
        ),
    ),
    Section(
        "went_wrong",
        "What Went Wrong",
        (
            _f("detection", "Detection issues", "What delayed detection or made it harder to find"),
            _f("response", "Response issues", "What slowed down or complicated the response"),
            _f("communication", "Communication issues", "Where communication broke down"),
            _f(
                "remediation",
                "Remediation issues",
                "What made the fix harder than it should have been",
            ),
        ),
    ),
    Section(
        "prevention",
        "Prevention Measures",
        (
            _f("tests", "Tests added", "One per line: regression test, file, what it covers"),
            _f(
                "monitoring",
                "Monitoring added",
                "One per line: alert or dashboard, metric, threshold",
            ),
            _f("process", "Process changes", "One per line: what changed and why"),
            _f("architecture", "Architecture changes", "One per line: change, where, why"),
            _f("documentation", "Documentation updates", "One per line: doc and what was added"),
        ),
    ),
    Section(
        "lessons",
        "Lessons Learned",
        (
            _f(
                "technical", "Technical lessons", "What we learned about our systems (one per line)"
            ),
            _f("process", "Process lessons", "What we learned about our processes (one per line)"),
            _f(
                "communication",
                "Communication lessons",
                "What we learned about our communication (one per line)",
            ),
        ),
    ),
    Section(
        "acknowledgments",
        "Acknowledgments",
        (_f("text", "Acknowledgments", "Recognize people who helped resolve the incident"),),
    ),
    Section(
        "references",
        "Appendix",
        (
            _f("related", "Related incidents", "Link to similar past incidents if any"),
            _f(
                "external",
                "External references",
                "Links to relevant documentation, tickets, monitoring dashboards",
            ),
            _f(
                "metrics",
                "Metrics and logs",
                "Attach relevant data - error rates, response times, log samples",
            ),
        ),
    ),
)

BY_KEY = {s.key: s for s in SECTIONS}


def find_section(name: str) -> Section | None:
    """A section by key or title words: `root_cause`, `root-cause`, `five whys`, `summary`."""
    wanted = name.lower().replace("-", " ").replace("_", " ").strip()
    for section in SECTIONS:
        if wanted in (section.key.replace("_", " "), section.title.lower()):
            return section
    matches = [s for s in SECTIONS if wanted and wanted in s.title.lower()]
    return matches[0] if len(matches) == 1 else None
