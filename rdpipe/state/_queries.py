"""The SQL the store runs, kept apart so the store reads as behaviour, not strings."""

from __future__ import annotations

_TASK_COLUMNS = """
    t.task_id, t.intent_id, i.key, i.shot_id, i.take, i.attempt, i.model, t.submitted_at,
    t.state, t.progress, t.error_code, t.error_message, t.seed, t.duration, t.updated_at,
    t.finished_at, t.reissued_at, i.api_host, i.run_id, i.precharge_quota, i.expected_quota,
    t.settled_quota, r.currency, r.quota_per_unit, r.currency_rate, t.restored_cost
"""
_TASKS = f"""SELECT {_TASK_COLUMNS}
FROM tasks t JOIN intents i USING (intent_id) LEFT JOIN runs r ON r.run_id = i.run_id"""

_INTENTS = """
SELECT intent_id, key, shot_id, take, attempt, model, request_json, created_at, outcome, reason,
    task_id, resolved_at, api_host, run_id, precharge_quota, expected_quota
FROM intents
"""

_CLIPS = """
SELECT i.key, i.take, i.shot_id, t.task_id, c.path, c.size, c.sha256, c.duration, c.seed,
    c.recorded_at, i.expected_quota, t.settled_quota, r.currency, r.quota_per_unit,
    r.currency_rate, t.restored_cost
FROM clips c JOIN tasks t ON t.intent_id = c.intent_id JOIN intents i ON i.intent_id = t.intent_id
    LEFT JOIN runs r ON r.run_id = i.run_id
"""

INSERT_INTENT = """
INSERT INTO intents (pipeline, key, shot_id, take, model, request_json, created_at, api_host,
    run_id, precharge_quota, expected_quota, attempt, outcome)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1 + count(*), 'pending'
FROM intents WHERE pipeline = ? AND key = ? AND take = ?
"""

INSERT_RUN = """
INSERT INTO runs (started_at, currency, quota_per_unit, currency_rate) VALUES (?, ?, ?, ?)
"""
UPDATE_RUN_CURRENCY = """
UPDATE runs SET currency = ?, quota_per_unit = ?, currency_rate = ? WHERE run_id = ?
"""

INTENT_OUTCOME = "SELECT outcome FROM intents WHERE intent_id = ? AND pipeline = ?"

RESOLVE_INTENT = """
UPDATE intents SET outcome = ?, reason = ?, resolved_at = ?
WHERE intent_id = ? AND pipeline = ? AND outcome IN (?, ?)
"""

PENDING_INTENTS = "SELECT intent_id FROM intents WHERE pipeline = ? AND outcome = 'pending'"

RECOVER_PENDING = """
UPDATE intents SET outcome = 'unknown', reason = ?, resolved_at = ?
WHERE pipeline = ? AND outcome = 'pending'
"""

# The trigger tasks_resolve_intent marks the intent submitted in the same statement, and
# tasks_retire_reissued_id marks an earlier task with the same id reissued.
INSERT_TASK = """
INSERT INTO tasks (task_id, intent_id, submitted_at, state, updated_at)
SELECT ?, intent_id, ?, 'pending', ? FROM intents
WHERE intent_id = ? AND pipeline = ? AND outcome IN ('pending', 'unknown')
"""

SET_RESTORED_COST = """
UPDATE tasks SET restored_cost = ?
WHERE task_id = ? AND reissued_at IS NULL
    AND intent_id IN (SELECT intent_id FROM intents WHERE pipeline = ?)
"""

UPDATE_TASK = """
UPDATE tasks SET state = ?, progress = coalesce(?, progress),
    error_code = coalesce(?, error_code), error_message = coalesce(?, error_message),
    seed = coalesce(?, seed), duration = coalesce(?, duration),
    settled_quota = coalesce(?, settled_quota), updated_at = ?,
    finished_at = CASE WHEN ? THEN coalesce(finished_at, ?) ELSE NULL END
WHERE task_id = ? AND reissued_at IS NULL
    AND intent_id IN (SELECT intent_id FROM intents WHERE pipeline = ?)
"""

UPSERT_CLIP = """
INSERT INTO clips (intent_id, path, size, sha256, duration, seed, recorded_at)
SELECT t.intent_id, ?, ?, ?, ?, ?, ? FROM tasks t JOIN intents i ON i.intent_id = t.intent_id
WHERE t.task_id = ? AND t.reissued_at IS NULL AND i.pipeline = ?
ON CONFLICT (intent_id) DO UPDATE SET path = excluded.path, size = excluded.size,
    sha256 = excluded.sha256, duration = excluded.duration, seed = excluded.seed,
    recorded_at = excluded.recorded_at
"""

_NEWEST_FIRST = "ORDER BY i.intent_id DESC"
# The task an id names now first (not reissued), then older ones with the same id.
_CURRENT_FIRST = "ORDER BY t.reissued_at IS NOT NULL, i.intent_id DESC"

TASK_BY_ID = f"{_TASKS} WHERE i.pipeline = ? AND t.task_id = ? {_CURRENT_FIRST}"
TASKS_OF_KEY = f"{_TASKS} WHERE i.pipeline = ? AND i.key = ? AND i.take = ? {_NEWEST_FIRST}"
TASKS_IN_FLIGHT = f"""{_TASKS}
WHERE i.pipeline = ? AND t.state IN ('pending', 'running') ORDER BY t.submitted_at, i.intent_id
"""

INTENTS_OF_KEY = f"{_INTENTS} WHERE pipeline = ? AND key = ? AND take = ? ORDER BY intent_id DESC"
INTENTS_UNKNOWN = f"""{_INTENTS}
WHERE pipeline = ? AND outcome IN ('pending', 'unknown') ORDER BY intent_id
"""

CLIPS_OF_KEY = f"""{_CLIPS}
WHERE i.pipeline = ? AND i.key = ? AND i.take = ? ORDER BY c.recorded_at DESC, c.clip_id DESC
"""
CLIP_OF_TASK = f"{_CLIPS} WHERE i.pipeline = ? AND t.task_id = ? {_CURRENT_FIRST}"

# The pipeline's newest run that submitted (the highest run id among its intents).
LAST_RUN = """
SELECT run_id, started_at, currency, quota_per_unit, currency_rate FROM runs
WHERE run_id = (SELECT max(run_id) FROM intents WHERE pipeline = ?)
"""
TASKS_WITHOUT_RUN = """
SELECT count(*) AS n FROM tasks t JOIN intents i USING (intent_id)
WHERE i.pipeline = ? AND i.run_id IS NULL
"""
TASKS_OF_RUN = f"{_TASKS} WHERE i.pipeline = ? AND i.run_id = ? ORDER BY i.intent_id"
# Tasks an earlier run sent that finished once the run ``?`` had started: a resumed run followed
# them to their end (an interrupted run's tasks), so they are on its bill.
TASKS_FINISHED_IN_RUN = f"""{_TASKS}
WHERE i.pipeline = ? AND i.run_id < ? AND t.finished_at >= ? ORDER BY i.intent_id"""
INTENTS_OF_RUN = f"{_INTENTS} WHERE pipeline = ? AND run_id = ? ORDER BY intent_id"
