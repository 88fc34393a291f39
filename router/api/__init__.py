"""The router's HTTP endpoints, one APIRouter per file."""
