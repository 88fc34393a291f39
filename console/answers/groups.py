"""The unanswered groups as the Answers page shows and answers them.

A group's id is a hash of its members' ids, so a question joining it between the page
and the owner's answer changes the id. The form therefore carries the members it showed
(id, time, text hash: what names a question on one replica's list), and the group is
found again as the one sharing the most of them."""

import json
from typing import Any

from console.answers.faq import question_from

MemberKey = tuple[int, str, str]


def shown_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each group with the question its form starts from (cut to what an FAQ item holds)
    and its members as the form carries them."""
    return [
        {
            **group,
            "question": question_from(str(group.get("representative", ""))),
            "members_json": json.dumps(group.get("members") or [], separators=(",", ":")),
        }
        for group in groups
    ]


def _key(member: Any) -> MemberKey | None:
    if not isinstance(member, dict):
        return None
    number, at, digest = member.get("id"), member.get("at"), member.get("hash")
    if isinstance(number, int) and isinstance(at, str) and isinstance(digest, str):
        return number, at, digest
    return None


def member_keys(posted: str) -> set[MemberKey]:
    """The members a form carried; nothing for a form that carried none that can be read."""
    try:
        members = json.loads(posted)
    except ValueError:
        return set()
    if not isinstance(members, list):
        return set()
    return {key for key in map(_key, members) if key is not None}


def matching_group(
    groups: list[dict[str, Any]], shown: set[MemberKey], group_id: str
) -> dict[str, Any] | None:
    """The group now sharing the most of the questions the form showed (the same id first
    among equals); None when no group holds any of them."""
    best: dict[str, Any] | None = None
    best_rank = (0, False)
    for group in groups:
        members = {key for key in map(_key, group.get("members") or []) if key is not None}
        rank = (len(members & shown), group.get("id") == group_id)
        if rank[0] > 0 and rank > best_rank:
            best, best_rank = group, rank
    return best
