"""The owner's pages: their Businesses, the list with its filters, a thread with its
buttons; customer text always shown as text; every page in Sinhala, Tamil and English."""

import re

from console_under_test import ALPHA, BETA, Console, message

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(2)>'


async def seed(console: Console) -> None:
    await console.record(
        message(1, conversation="c-1", language="si", customer_name="Kamal"),
        message(2, conversation="c-1", author="agent", language="si", intent="hours",
                sources=["https://alpha.lk/menu", "javascript:alert(3)"]),
        message(3, conversation="c-2", text=MARKUP, customer_name=MARKUP),
        message(4, conversation="c-2", kind="handoff_started", author="system", text=None,
                handoff_reason="asked for a person"),
        message(5, conversation="c-2", author="person", text="I will check, Kamal"),
        message(6, conversation="c-2", author="owner_app", text="Done"),
    )  # fmt: skip


def rows(page: str) -> list[str]:
    return re.findall(r'<li class="conversation" data-id="([^"]+)"', page)


async def test_the_home_page_lists_businesses_or_goes_to_the_only_one(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner", BETA: "staff"}) as client:
        both = await client.get("/")
    async with await console.sign_in({ALPHA: "staff"}) as client:
        one = await client.get("/")
    assert both.status_code == 200
    assert 'href="/b/shops/alpha"' in both.text
    assert 'href="/b/shops/beta"' in both.text
    assert (one.status_code, one.headers["location"]) == (303, "/b/shops/alpha")


async def test_the_list_shows_conversations_and_filters(console: Console) -> None:
    await seed(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        everything = (await client.get("/b/shops/alpha")).text
        person = (await client.get("/b/shops/alpha", params={"with_person": "true"})).text
        sinhala = (await client.get("/b/shops/alpha", params={"language": "si"})).text
        waiting = (await client.get("/b/shops/alpha", params={"unanswered": "true"})).text
    assert rows(everything) == ["c-2", "c-1"]
    assert rows(person) == ["c-2"]
    assert rows(sinhala) == ["c-1"]
    assert rows(waiting) == []
    assert 'name="with_person" value="true" checked' in person
    assert 'data-events="/api/v1/tenants/shops/alpha/events"' in everything
    assert "Kamal" in everything


async def test_the_list_pages_back_by_keyset(console: Console) -> None:
    await console.record(*(message(n, conversation=f"c-{n:03}") for n in range(60)))
    async with await console.sign_in({ALPHA: "owner"}) as client:
        first = (await client.get("/b/shops/alpha")).text
        older = re.search(r'class="older" href="([^"]+)"', first)
        assert older is not None
        second = (await client.get(older.group(1).replace("&amp;", "&"))).text
    assert rows(first) == [f"c-{n:03}" for n in range(59, 9, -1)]
    assert rows(second) == [f"c-{n:03}" for n in range(9, -1, -1)]
    assert 'class="older"' not in second


async def test_a_thread_shows_every_author_and_the_agents_language_and_sources(
    console: Console,
) -> None:
    await seed(console)
    async with await console.sign_in({ALPHA: "staff"}) as client:
        agent = (await client.get("/b/shops/alpha/c/c-1")).text
        person = (await client.get("/b/shops/alpha/c/c-2")).text
    assert re.findall(r'class="bubble (\w+) (\w+)"', agent) == [
        ("customer", "message"),
        ("agent", "message"),
    ]
    assert "<dd>Sinhala</dd>" in agent
    assert "<dd>hours</dd>" in agent
    assert '<a href="https://alpha.lk/menu"' in agent
    assert 'href="javascript:' not in agent  # shown as text, never a link
    assert "javascript:alert(3)" in agent
    assert 'data-action="takeover"' in agent
    assert 'data-action="reply"' not in agent
    assert re.findall(r'class="bubble (\w+) (\w+)"', person) == [
        ("customer", "message"),
        ("system", "handoff_started"),
        ("person", "message"),
        ("owner_app", "message"),
    ]
    assert "asked for a person" in person
    assert 'data-action="reply"' in person
    assert 'data-action="release"' in person
    assert 'data-action="takeover"' not in person


async def test_the_thread_page_carries_the_sessions_csrf_token(console: Console) -> None:
    await seed(console)
    async with await console.sign_in({ALPHA: "staff"}) as client:
        page = (await client.get("/b/shops/alpha/c/c-1")).text
        token = client.headers["X-CSRF-Token"]
    assert f'data-csrf="{token}"' in page
    assert 'data-api="/api/v1/tenants/shops/alpha/conversations/c-1"' in page


async def test_a_customers_markup_comes_back_as_text(console: Console) -> None:
    await seed(console)
    async with await console.sign_in({ALPHA: "owner"}) as client:
        pages = [
            (await client.get("/b/shops/alpha")).text,
            (await client.get("/b/shops/alpha/c/c-2")).text,
        ]
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x" in page


async def test_pages_speak_sinhala_tamil_and_english(console: Console) -> None:
    await seed(console)
    pages: dict[str, list[str]] = {}
    for language in ("si", "ta", "en"):
        async with await console.sign_in({ALPHA: "owner"}, language=language) as client:
            pages[language] = [
                (await client.get(path)).text
                for path in ("/b/shops/alpha", "/b/shops/alpha/c/c-1", "/b/shops/alpha/c/c-2")
            ]
    words = {
        "si": ("සංවාද", "පුද්ගලයෙකු අවශ්‍යයි", "භාර ගන්න", "නියෝජිතයාට නැවත භාර දෙන්න"),
        "ta": ("உரையாடல்கள்", "நபர் தேவை", "பொறுப்பேற்கவும்", "முகவரிடம் திருப்பிக் கொடு"),
        "en": ("Conversations", "Needs a person", "Take over", "Give back to the agent"),
    }
    for language, (title, badge, take, give) in words.items():
        listing, agent, person = pages[language]
        assert f'<html lang="{language}">' in listing
        assert title in listing
        assert badge in listing
        assert take in agent
        assert give in person
    assert "Conversations" not in pages["si"][0]
    assert "Take over" not in pages["ta"][1]


async def test_the_browsers_language_is_used_without_a_choice(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner"}) as client:
        page = await client.get("/b/shops/alpha", headers={"Accept-Language": "ta-LK,en;q=0.5"})
    assert '<html lang="ta">' in page.text
    assert "இங்கு இன்னும் உரையாடல்கள் இல்லை." in page.text


async def test_a_missing_page_is_a_page_of_its_own(console: Console) -> None:
    async with await console.sign_in({ALPHA: "owner"}, language="si") as client:
        page = await client.get("/b/shops/alpha/c/c-404")
    assert page.status_code == 404
    assert "හමු නොවීය" in page.text


async def test_every_page_signs_out_with_a_form_carrying_the_csrf_token(console: Console) -> None:
    await seed(console)
    async with await console.sign_in({ALPHA: "owner", BETA: "owner"}) as client:
        pages = [
            (await client.get(path)).text
            for path in ("/", "/b/shops/alpha", "/b/shops/alpha/c/c-1")
        ]
        tokens = [re.search(r'name="csrf" value="([0-9a-f]+)"', page) for page in pages]
        assert all(token is not None for token in tokens)
        csrf = tokens[0].group(1) if tokens[0] else ""
        del client.headers["X-CSRF-Token"]  # the form's field alone, as a browser sends it
        signed_out = await client.post("/signout", data={"csrf": csrf})
        after = await client.get("/b/shops/alpha")
    assert all('action="/signout"' in page for page in pages)
    assert signed_out.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"].startswith("/signin")


async def test_the_thread_explains_each_refusal_of_the_router_in_the_readers_language(
    console: Console,
) -> None:
    await seed(console)
    async with await console.sign_in({ALPHA: "staff"}, language="si") as client:
        page = (await client.get("/b/shops/alpha/c/c-2")).text
    window = re.search(r'data-reason-outside-window="([^"]+)"', page)
    unknown = re.search(r'data-reason-unknown-customer="([^"]+)"', page)
    assert window is not None
    assert unknown is not None
    assert "පැය 24" in window.group(1)  # Sinhala, not the English left in place
    assert re.search("[\u0d80-\u0dff]", unknown.group(1))
    assert "data-reason-not-configured" not in page  # no answer of the router's


async def test_an_address_that_is_no_page_is_the_not_found_page_in_the_readers_language(
    console: Console,
) -> None:
    async with await console.sign_in({ALPHA: "owner"}, language="ta") as client:
        page = await client.get("/b/shops/alpha/nothing-here")
        api = await client.get("/api/v1/tenants/shops/alpha/nothing-here")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert re.search("[\u0b80-\u0bff]", page.text)  # the page's own words, in Tamil
    assert (api.status_code, api.headers["content-type"]) == (404, "application/json")
