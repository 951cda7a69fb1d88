"""Campaigns: texts sent to many subscribers at once (marketing, notices, polls,
rating and opt-in requests), and the answers that come back, tallied instead of
posted one by one."""
