"""Serve recorded API responses on 127.0.0.1 so the real client libraries run unchanged (demo, tests)."""
