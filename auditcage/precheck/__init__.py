"""The synchronous pre-check (后台审核): would this record, committed now, need review?"""
