"""chiso — Bộ chỉ số phục vụ người dân, doanh nghiệp (the national service index, Decision 766/QĐ-TTg).

Data flows one way: files (``chiso.load``) -> store (``chiso.store``) -> deadlines and status
(``chiso.calendar``, ``chiso.status``) -> scores and documents (later issues).
"""

__version__ = "0.1.0"
