"""Conversation routes: the JSON API under /api/v1, the pages, and the customers' files
the thread shows, on one router that `create_app` includes."""

from fastapi import APIRouter

from console.conversations import api, media, pages

router = APIRouter()
router.include_router(api.router)
router.include_router(pages.router)
router.include_router(media.router)
