"""Customer data routes: the JSON API under /api/v1 and the pages, on one router that
`create_app` includes."""

from fastapi import APIRouter

from console.customers import api, pages

router = APIRouter()
router.include_router(api.router)
router.include_router(pages.router)
