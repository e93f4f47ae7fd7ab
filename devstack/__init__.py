"""Development-only tools: the recorded-API replay server and the local stack's process helpers.

Not part of what a deployment imports (it is outside the plugins folder).
"""
