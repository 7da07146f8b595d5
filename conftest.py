# Import the plugin before any test module imports mmagic.models, so the
# compatibility shims (astf_mm.compat) are active as they are for users.
import astf_mm  # noqa: F401
