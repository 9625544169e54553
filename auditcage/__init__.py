"""auditcage: supervisory-audit rule engine for traffic-police business windows (数据铁笼)."""

__version__ = "0.1.0"
