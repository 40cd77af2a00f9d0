"""platform_worker"""
