"""Several server processes share Socket.IO rooms through Redis (PHOTOTIPS_MESSAGE_QUEUE)."""

import uuid

from conftest import ServerProcess
from test_live import Seller



def test_a_photo_sent_to_one_process_reaches_the_listing_on_another(redis_url, photo_files, tmp_path):
    # Every process signs and checks seller tokens with the same secret.
    env = {"PHOTOTIPS_MESSAGE_QUEUE": redis_url, "PHOTOTIPS_LOG_LEVEL": "WARNING",
           "PHOTOTIPS_TOKEN_SECRET": "s" * 40}
    a, b = ServerProcess(env, tmp_path), ServerProcess(env, tmp_path)
    phone = Seller(a.url)
    tablet = Seller(b.url, token=phone.token)  # the same seller on a second device
    listing = f"shared-{uuid.uuid4()}"
    try:
        # The tablet joins the listing's room on server B by sending the first photo there.
        first = tablet.send(listing_id=listing, image=photo_files["chelsea"].read_bytes())
        tablet.wait_for(lambda n, m: n == "hero" and m["hero"] == first["photo_id"])
        # The phone sends the next photo to server A: the tablet on B sees its tips and score.
        second = phone.send(listing_id=listing, image=photo_files["coffee"].read_bytes(), ref="from-phone")
        got = tablet.wait_for(lambda n, m: n == "tips" and m["photo_id"] == second["photo_id"])
        assert got[0][1]["ref"] == "from-phone" and got[0][1]["tips"]
        tablet.wait_for(lambda n, m: n == "score" and m["photo_id"] == second["photo_id"])
    finally:
        phone.sio.disconnect()
        tablet.sio.disconnect()
        a.stop()
        b.stop()


def test_a_seller_moving_to_another_process_keeps_every_acknowledged_photo(redis_url, photo_files, tmp_path):
    """Listings live in Redis: a restart of the seller's process loses no photo from the hero ranking."""
    env = {"PHOTOTIPS_MESSAGE_QUEUE": redis_url, "PHOTOTIPS_REDIS_URL": redis_url,
           "PHOTOTIPS_LOG_LEVEL": "WARNING", "PHOTOTIPS_TOKEN_SECRET": "s" * 40}
    a, b = ServerProcess(env, tmp_path), ServerProcess(env, tmp_path)
    listing = f"moving-{uuid.uuid4()}"
    try:
        phone = Seller(a.url)
        acked = [phone.send(listing_id=listing, image=photo_files[name].read_bytes())["photo_id"]
                 for name in ("chelsea", "coffee")]
        phone.sio.disconnect()
        a.stop()  # the process that took both photos is gone

        again = Seller(b.url, token=phone.token)
        third = again.send(listing_id=listing, image=photo_files["astronaut"].read_bytes())["photo_id"]
        hero = again.wait_for(lambda n, m: n == "hero" and len(m["ranking"]) == 3)[0][1]
        assert {e["photo_id"] for e in hero["ranking"]} == {*acked, third}
        again.sio.disconnect()
    finally:
        a.stop()
        b.stop()
