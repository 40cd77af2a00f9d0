import hiredis

from platform_worker.decode import OrderRecord
from platform_worker.store import OrderStore, connect


def test_a_batch_is_packed_as_the_set_commands_hiredis_would_write():
    store = OrderStore(connect("redis://127.0.0.1:1/0", 1.0), ttl_s=3600)  # never connects
    orders = [OrderRecord(101, b'{"orderId": 101}', None), OrderRecord(2**70, "주문".encode() + b"\r\n\x00", None)]
    expected = b"".join(
        hiredis.pack_command((b"SET", f"data:order:processed:{order.order_id}".encode(), order.value, b"EX", b"3600"))
        for order in orders
    )
    assert store._pack(orders) == expected
