"""Working denials as a team: work states, assignment, notes with an audit trail, and users.

- :mod:`reconcile.workqueue.states`: the states and allowed transitions (data: ``data/denial_states.toml``).
- :mod:`reconcile.workqueue.work`: ``assign``, ``set_state``, ``add_note``, ``history``.
- :mod:`reconcile.workqueue.users`: users with KDF-hashed passwords, the key of the ledger's login cookies.
- :mod:`reconcile.workqueue.queries`: the worklist page (filters, paging) and a claim's timeline.
"""

from reconcile.workqueue.states import StateTable, load_states
from reconcile.workqueue.users import UserError, add_user, list_users, verify_login
from reconcile.workqueue.work import WorkError, add_note, assign, history, set_state, work_state

__all__ = [
    "StateTable",
    "UserError",
    "WorkError",
    "add_note",
    "add_user",
    "assign",
    "history",
    "list_users",
    "load_states",
    "set_state",
    "verify_login",
    "work_state",
]
