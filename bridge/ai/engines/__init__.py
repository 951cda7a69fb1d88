"""Drafting engines behind an API (Claude). The offline engine has its own package,
`bridge.ai.offline`; what every engine shares (the drafter interface, the knowledge
base, the tools, the safety signals) stays in `bridge.ai`."""
