"""outbox_relay"""
