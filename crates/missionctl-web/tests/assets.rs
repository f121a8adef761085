//! The page's files: nothing in them reaches another site, and the script only talks to the
//! dashboard's own API.

const FILES: [(&str, &str); 3] = [
    ("index.html", include_str!("../src/assets/index.html")),
    ("app.js", include_str!("../src/assets/app.js")),
    ("style.css", include_str!("../src/assets/style.css")),
];

#[test]
fn the_page_loads_nothing_from_elsewhere() {
    for (name, text) in FILES {
        for needle in ["http://", "https://", "//cdn", "@import", "url("] {
            assert!(!text.contains(needle), "{name} contains {needle}");
        }
    }
}

#[test]
fn the_script_uses_only_the_dashboards_api() {
    let script = FILES[1].1;
    for call in script
        .match_indices("api('")
        .map(|(at, _)| &script[at + 5..])
    {
        assert!(call.starts_with("/api/"), "{}", &call[..call.len().min(40)]);
    }
    assert!(script.contains("new EventSource('/api/events"));
    assert!(
        !script.contains("innerHTML"),
        "text is never parsed as HTML"
    );
}
