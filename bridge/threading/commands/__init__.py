"""The `/sms` commands. Each is declared once, next to what it does, in the module of
its family (`conversation`, `canned`, `sending`, `contact`, `knowledge`, `helping`);
`table` lists the families, and that one table drives parsing, the usage line,
`/sms help`, the picker and who may run each command."""
