"""Policy workflows (政策服务): first-of-kind insurance compensation, technical-contract registration and the annual
transformation report, evaluation by professional institutions, docking exhibitions. Above docking (an exhibition
counts the enquiries and orders started from it), below the console."""
