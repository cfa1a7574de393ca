"""moto's server for scripts/bench, with one change so that latency does not grow with the table.

moto's TransactWriteItems deep-copies every table it writes to before writing, so that it can roll
back on failure. That costs about 0.1 ms per item in the table, and every login adds two items to
the token table: after a few thousand logins each login waits hundreds of milliseconds in moto,
and the benchmark would measure moto's copy instead of the function. Here a transaction snapshots
only the items it touches and puts those back on failure, which is all the rollback needs.

And one addition: TransactWriteItems honours ClientRequestToken as DynamoDB does. The functions
send one, so that an SDK retry of a transaction that did land (its first attempt timed out while
moto was busy) answers success; moto ignores it, and the retry then fails its own conditions.

Everything else is moto as pinned in requirements-dev.txt.

    .venv/bin/python bench/moto_server.py -H 127.0.0.1 -p PORT    (moto_server's options)
"""

import copy
import json
import sys
import threading
import time

from moto.core.responses import ActionResult
from moto.dynamodb import models, responses
from moto.server import main

_local = threading.local()


class _Copy:
    """`copy` as moto.dynamodb.models sees it: inside a transaction here, tables are not copied."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if getattr(_local, "in_transaction", False) and isinstance(value, models.Table):
            return value
        return copy.deepcopy(value, memo)


def _snapshot(backend, transact_items):
    """(table, hash key, range key, copy of the item or None) for every item the transaction touches."""
    touched = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        hash_key, range_key = backend.get_keys_value(table, op.get("Key") or op["Item"])
        item = table.get_item(hash_key, range_key)
        touched.append((table, hash_key, range_key, copy.deepcopy(item)))
    return touched


def _restore(touched):
    for table, hash_key, range_key, item in reversed(touched):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items[hash_key].pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item


_original = models.DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    try:
        touched = _snapshot(self, transact_items)
    except Exception:
        # A malformed request: moto validates and answers it as it always does.
        return _original(self, transact_items)
    _local.in_transaction = True
    try:
        return _original(self, transact_items)
    except Exception:
        _restore(touched)
        raise
    finally:
        _local.in_transaction = False


# DynamoDB remembers a ClientRequestToken for 10 minutes.
_TOKEN_SECONDS = 600
_tokens_lock = threading.Lock()
# token -> (the request's items, when it succeeded or None while in flight, done event)
_tokens = {}
_original_handler = responses.DynamoHandler.transact_write_items


def _idempotent_transact_write_items(self):
    token = self.body.get("ClientRequestToken")
    if not token:
        return _original_handler(self)
    request = json.dumps(self.body.get("TransactItems"), sort_keys=True)
    done = threading.Event()
    with _tokens_lock:
        seen = _tokens.get(token)
        if seen is None or (seen[1] is not None and time.monotonic() - seen[1] > _TOKEN_SECONDS):
            seen = None
            _tokens[token] = (request, None, done)
    if seen is not None and seen[0] == request:
        # The same transaction again: wait for the first to end, then answer as it did.
        seen[2].wait()
        with _tokens_lock:
            landed = token in _tokens
        if landed:
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        return _original_handler(self)
    if seen is not None:
        return _original_handler(self)
    try:
        result = _original_handler(self)
    except Exception:
        with _tokens_lock:
            _tokens.pop(token, None)
        raise
    else:
        with _tokens_lock:
            _tokens[token] = (request, time.monotonic(), done)
        return result
    finally:
        done.set()


models.copy = _Copy()
models.DynamoDBBackend.transact_write_items = _transact_write_items
responses.DynamoHandler.transact_write_items = _idempotent_transact_write_items

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
