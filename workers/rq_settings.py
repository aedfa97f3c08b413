"""rq CLI settings (`rq worker -c workers.rq_settings`): the same Redis the app uses, Sentinel included, and
the queues of the program this process serves (`rq worker-pool` given no queue names serves QUEUES)."""
from service import queues
from service.programs import rq_settings

globals().update(rq_settings())
QUEUES = queues.names(PROGRAM)  # noqa: F821 - set just above, from rq_settings()
