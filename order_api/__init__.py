"""order_api"""
