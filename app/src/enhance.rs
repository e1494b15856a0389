//! Small improvements the WASM client makes to server-rendered pages, on the
//! plain DOM (they apply to server-rendered forms and buttons wherever they
//! are, so they are not islands). Every page works without
//! them; with them:
//! - `button[data-print]` prints the page (a receipt, a certificate);
//! - `button[data-close-details]` closes the question it sits in ("不取消");
//! - `[data-countdown=N]` counts down N seconds ("58 秒后可重新获取") and then
//!   enables the button named by its `data-enables` (the login code resend);
//! - a form posted while the phone has no network is not sent (which would
//!   leave the person on the browser's error page): it stays on the screen
//!   with everything typed, says so, and is sent by itself once the network
//!   is back (WeChat's browser has no service worker, so this is where it
//!   must be caught);
//! - every form sent is first kept on the phone (`Draft`, in localStorage,
//!   a day at most, never passwords, codes or ID numbers) with a cookie of
//!   its id; the server takes the cookie away with its answer to the post
//!   (`server::middleware::draft_answered`). So when a page opens and the
//!   cookie is still there, the post never arrived (a network that said it
//!   was on, then failed: the browser's error page or `offline.html`): back
//!   on the form's page, what was typed is put back with a note.

/// "还剩 N 秒" in the page's language, from the element's template
/// (`data-template`, with `{n}` where the number goes).
pub fn countdown_text(template: &str, n: u32) -> String {
    template.replace("{n}", &n.to_string())
}

/// What a form held when it was sent, kept until the server answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    /// the page the form was on (path and query)
    pub page: String,
    /// the form's `action` as written in the page
    pub action: String,
    /// when it was sent (ms since 1970)
    pub at_ms: i64,
    pub fields: Fields,
    /// the form's hidden fields: not put back (the page brings them), only
    /// to tell the form among others with the same action (a reply's parent)
    pub hidden: Fields,
}

/// A form's fields by name, in their order.
pub type Fields = Vec<(String, String)>;

pub const DRAFT_KEY: &str = "zhsq_draft";
/// A day: a draft older than that is dropped rather than put back.
pub const DRAFT_MAX_AGE_MS: i64 = 86_400_000;
const DRAFT_HEAD: &str = "zhsq-draft-1";
const HIDDEN_MARK: &str = "~hidden";

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

impl Draft {
    /// One line per item: a head, id, page, action, time, then `name<TAB>value`.
    pub fn encode(&self) -> String {
        let mut lines = vec![
            DRAFT_HEAD.to_string(),
            escape(&self.id),
            escape(&self.page),
            escape(&self.action),
            self.at_ms.to_string(),
        ];
        let pair = |(k, v): &(String, String)| format!("{}\t{}", escape(k), escape(v));
        lines.extend(self.fields.iter().map(pair));
        lines.push(HIDDEN_MARK.to_string());
        lines.extend(self.hidden.iter().map(pair));
        lines.join("\n")
    }

    pub fn decode(s: &str) -> Option<Draft> {
        let mut lines = s.split('\n');
        if lines.next()? != DRAFT_HEAD {
            return None;
        }
        let id = unescape(lines.next()?);
        let page = unescape(lines.next()?);
        let action = unescape(lines.next()?);
        let at_ms = lines.next()?.parse().ok()?;
        let (mut fields, mut hidden) = (vec![], vec![]);
        let mut in_hidden = false;
        for l in lines {
            if l == HIDDEN_MARK {
                in_hidden = true;
            } else if let Some((k, v)) = l.split_once('\t') {
                let pair = (unescape(k), unescape(v));
                if in_hidden {
                    hidden.push(pair)
                } else {
                    fields.push(pair)
                }
            }
        }
        Some(Draft { id, page, action, at_ms, fields, hidden })
    }
}

/// Whether a field is kept in a draft: not hidden fields (the page brings
/// them again), buttons or files, and never a secret or an ID number.
pub fn keeps_field(name: &str, kind: &str) -> bool {
    const NEVER: [&str; 6] = ["password", "code", "id_number", "token", "otp", "secret"];
    !name.is_empty()
        && !matches!(kind, "hidden" | "password" | "file" | "submit" | "button" | "reset" | "image")
        && !NEVER.iter().any(|n| name.contains(n))
}

/// How well a form's hidden fields agree with a draft's: a form with a
/// field that disagrees is not it; among the rest, each agreeing field
/// counts for it and each field the draft did not have against it (the
/// comment form is not the reply form beside it, which has a parent).
pub fn hidden_agreement(draft: &[(String, String)], form: &[(String, String)]) -> Option<i64> {
    let mut score = 0;
    for (k, v) in draft {
        match form.iter().find(|(fk, _)| fk == k) {
            Some((_, fv)) if fv == v => score += 1,
            Some(_) => return None,
            None => {}
        }
    }
    Some(score - form.iter().filter(|(fk, _)| !draft.iter().any(|(k, _)| k == fk)).count() as i64)
}

/// The draft id the cookie still holds (`zhsq_draft=<id>`), if any.
pub fn cookie_draft(cookies: &str) -> Option<&str> {
    cookies.split(';').map(str::trim).find_map(|c| c.strip_prefix("zhsq_draft=")).filter(|v| !v.is_empty())
}

/// Shows the buttons `selector` finds (hidden while only the server's HTML
/// is there) and runs `f` with the button when one is tapped.
#[cfg(feature = "hydrate")]
fn show_and_click(doc: &web_sys::Document, selector: &str, f: impl Fn(&web_sys::HtmlElement) + Clone + 'static) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(buttons) = doc.query_selector_all(selector) else { return };
    for i in 0..buttons.length() {
        let Some(b) = buttons.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
        b.set_hidden(false);
        let (me, f) = (b.clone(), f.clone());
        let on_click = Closure::<dyn FnMut()>::new(move || f(&me));
        b.set_onclick(Some(on_click.as_ref().unchecked_ref()));
        on_click.forget();
    }
}

#[cfg(feature = "hydrate")]
pub fn start() {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(window) = web_sys::window() else { return };
    let Some(doc) = window.document() else { return };
    let lang_en = doc.document_element().and_then(|e| e.get_attribute("lang")).is_some_and(|l| l.starts_with("en"));

    // printing
    let w = window.clone();
    show_and_click(&doc, "button[data-print]", move |_| {
        let _ = w.print();
    });
    // "不取消": closes the question a `ConfirmPost` opened
    show_and_click(&doc, "button[data-close-details]", |b| {
        if let Ok(Some(d)) = b.closest("details") {
            let _ = d.remove_attribute("open");
        }
    });

    // count-downs
    if let Ok(items) = doc.query_selector_all("[data-countdown]") {
        for i in 0..items.length() {
            let Some(el) = items.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
            let Some(mut left) = el.get_attribute("data-countdown").and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let template = el.get_attribute("data-template").unwrap_or_else(|| "{n}".into());
            let target = el.get_attribute("data-enables").and_then(|id| doc.get_element_by_id(&id));
            // without this client the button stays usable (the server says when it is too soon)
            el.set_hidden(false);
            if let Some(t) = &target {
                let _ = t.set_attribute("disabled", "");
            }
            let el2 = el.clone();
            let tick = Closure::<dyn FnMut()>::new(move || {
                left = left.saturating_sub(1);
                if left == 0 {
                    el2.set_hidden(true);
                    if let Some(t) = &target {
                        let _ = t.remove_attribute("disabled");
                    }
                } else {
                    el2.set_text_content(Some(&countdown_text(&template, left)));
                }
            });
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000);
            tick.forget();
        }
    }

    // forms sent without a network, and forms whose post never arrived
    restore_draft(&window, &doc, lang_en);
    let (w, d) = (window.clone(), doc.clone());
    let on_show = Closure::<dyn FnMut(web_sys::PageTransitionEvent)>::new(move |e: web_sys::PageTransitionEvent| {
        // back to a page the browser kept (after its error page)
        if e.persisted() {
            restore_draft(&w, &d, lang_en);
        }
    });
    let _ = window.add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
    on_show.forget();
    let offline_text = if lang_en {
        "There is no network right now. Everything you typed is still here, and it will be sent by itself as soon as the network is back."
    } else {
        "现在没有网络。您填写的内容都还在,网络恢复后会自动发送。"
    };
    let w = window.clone();
    let d = doc.clone();
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let Some(form) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        // forms with their own outbox (patrol events and check-ins, incident
        // reports) keep what is sent offline themselves
        if e.default_prevented()
            || !form.method().eq_ignore_ascii_case("post")
            || form.has_attribute("data-outbox")
            || form.has_attribute("data-offline-text")
        {
            return;
        }
        keep_draft(&w, &d, &form);
        if w.navigator().on_line() {
            return;
        }
        e.prevent_default();
        note(&d, &form, offline_text);
        let f = form.clone();
        let again = Closure::once(move || {
            if let Some(note) = f.query_selector(".offline-note").ok().flatten() {
                note.remove();
            }
            let _ = f.request_submit();
        });
        let opts = web_sys::AddEventListenerOptions::new();
        opts.set_once(true);
        let _ = w.add_event_listener_with_callback_and_add_event_listener_options(
            "online",
            again.as_ref().unchecked_ref(),
            &opts,
        );
        again.forget();
    });
    let _ = doc.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    on_submit.forget();
}

/// One note at the top of a form (replacing an earlier one).
#[cfg(feature = "hydrate")]
fn note(doc: &web_sys::Document, form: &web_sys::HtmlFormElement, text: &str) {
    if let Some(old) = form.query_selector(".offline-note").ok().flatten() {
        old.remove();
    }
    if let Ok(p) = doc.create_element("p") {
        p.set_class_name("form-error offline-note");
        let _ = p.set_attribute("role", "alert");
        p.set_text_content(Some(text));
        let _ = form.prepend_with_node_1(&p);
    }
}

#[cfg(feature = "hydrate")]
fn here(window: &web_sys::Window) -> String {
    let loc = window.location();
    format!("{}{}", loc.pathname().unwrap_or_default(), loc.search().unwrap_or_default())
}

#[cfg(feature = "hydrate")]
fn set_draft_cookie(doc: &web_sys::Document, value: &str, max_age: u32) {
    use wasm_bindgen::JsCast;
    if let Ok(h) = doc.clone().dyn_into::<web_sys::HtmlDocument>() {
        let _ = h.set_cookie(&format!("zhsq_draft={value}; path=/; max-age={max_age}; samesite=lax"));
    }
}

/// The fields a form holds now, as a draft would keep them.
#[cfg(feature = "hydrate")]
fn fields_of(form: &web_sys::HtmlFormElement) -> (Fields, Fields) {
    use wasm_bindgen::JsCast;
    let (mut out, mut hidden) = (vec![], vec![]);
    let Ok(list) = form.query_selector_all("input[name], textarea[name], select[name]") else { return (out, hidden) };
    for i in 0..list.length() {
        let Some(node) = list.item(i) else { continue };
        if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
            let (name, kind) = (input.name(), input.type_());
            if kind == "hidden" && !input.disabled() {
                hidden.push((name, input.value()));
                continue;
            }
            if input.disabled() || !keeps_field(&name, &kind) {
                continue;
            }
            if !matches!(kind.as_str(), "checkbox" | "radio") || input.checked() {
                out.push((name, input.value()));
            }
        } else if let Some(t) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            if !t.disabled() && keeps_field(&t.name(), "textarea") {
                out.push((t.name(), t.value()));
            }
        } else if let Some(s) = node.dyn_ref::<web_sys::HtmlSelectElement>() {
            if !s.disabled() && keeps_field(&s.name(), "select") {
                out.push((s.name(), s.value()));
            }
        }
    }
    (out, hidden)
}

/// Keeps what the form holds until the server answers its post. Logging
/// out forgets any draft.
#[cfg(feature = "hydrate")]
fn keep_draft(window: &web_sys::Window, doc: &web_sys::Document, form: &web_sys::HtmlFormElement) {
    let Some(storage) = window.local_storage().ok().flatten() else { return };
    let action = form.get_attribute("action").unwrap_or_default();
    if action.contains("/logout") {
        let _ = storage.remove_item(DRAFT_KEY);
        set_draft_cookie(doc, "", 0);
        return;
    }
    let (fields, hidden) = fields_of(form);
    // only what a person typed or chose is worth keeping
    if fields.iter().all(|(_, v)| v.trim().is_empty()) {
        return;
    }
    let at_ms = web_sys::js_sys::Date::now() as i64;
    let d = Draft { id: at_ms.to_string(), page: here(window), action, at_ms, fields, hidden };
    if storage.set_item(DRAFT_KEY, &d.encode()).is_ok() {
        set_draft_cookie(doc, &d.id, 86_400);
    }
}

/// On opening a page: a draft whose post was answered is dropped; one that
/// never arrived is put back into its form, if this is its page.
#[cfg(feature = "hydrate")]
fn restore_draft(window: &web_sys::Window, doc: &web_sys::Document, lang_en: bool) {
    use wasm_bindgen::JsCast;
    let Some(storage) = window.local_storage().ok().flatten() else { return };
    let Some(raw) = storage.get_item(DRAFT_KEY).ok().flatten() else { return };
    let cookies =
        doc.clone().dyn_into::<web_sys::HtmlDocument>().ok().and_then(|h| h.cookie().ok()).unwrap_or_default();
    let now = web_sys::js_sys::Date::now() as i64;
    let Some(d) = Draft::decode(&raw)
        .filter(|d| cookie_draft(&cookies) == Some(d.id.as_str()) && now - d.at_ms < DRAFT_MAX_AGE_MS)
    else {
        let _ = storage.remove_item(DRAFT_KEY);
        return;
    };
    if d.page != here(window) {
        return;
    }
    let Ok(forms) = doc.query_selector_all("form[action]") else { return };
    // the form with this action whose hidden fields agree best (a reply's
    // form carries its parent), the first of equals
    let mut best: Option<(i64, web_sys::HtmlFormElement)> = None;
    for f in
        (0..forms.length()).filter_map(|i| forms.item(i)).filter_map(|n| n.dyn_into::<web_sys::HtmlFormElement>().ok())
    {
        if f.get_attribute("action").as_deref() != Some(d.action.as_str()) {
            continue;
        }
        if let Some(score) = hidden_agreement(&d.hidden, &fields_of(&f).1) {
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, f));
            }
        }
    }
    let Some((_, form)) = best else { return };
    let Ok(list) = form.query_selector_all("input[name], textarea[name], select[name]") else { return };
    let mut used: Vec<bool> = vec![false; d.fields.len()];
    for i in 0..list.length() {
        let Some(node) = list.item(i) else { continue };
        // the next kept value of this name
        let mut next = |name: &str| {
            let k = d.fields.iter().enumerate().position(|(j, (n, _))| n == name && !used[j])?;
            used[k] = true;
            Some(d.fields[k].1.clone())
        };
        if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
            let (name, kind) = (input.name(), input.type_());
            if !keeps_field(&name, &kind) {
                continue;
            }
            if matches!(kind.as_str(), "checkbox" | "radio") {
                input.set_checked(d.fields.iter().any(|(n, v)| *n == name && *v == input.value()));
            } else if let Some(v) = next(&name) {
                input.set_value(&v);
            }
        } else if let Some(t) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            if let Some(v) = next(&t.name()) {
                t.set_value(&v);
            }
        } else if let Some(s) = node.dyn_ref::<web_sys::HtmlSelectElement>() {
            if let Some(v) = next(&s.name()) {
                s.set_value(&v);
            }
        }
    }
    let text = if lang_en {
        "This was not sent: the network dropped. What you typed is back; check it and send it again."
    } else {
        "上次没有发出去:网络断了。您填写的内容已经还原,请检查后再点一次发送。"
    };
    // a form folded away (a reply) is opened
    let mut up = form.parent_element();
    while let Some(el) = up {
        if el.tag_name().eq_ignore_ascii_case("details") {
            let _ = el.set_attribute("open", "");
        }
        up = el.parent_element();
    }
    note(doc, &form, text);
    form.scroll_into_view();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_round_trip_through_their_text() {
        let d = Draft {
            id: "1733300000000".into(),
            page: "/topics/3?tab=all".into(),
            action: "/api/post_comment123".into(),
            at_ms: 1_733_300_000_000,
            fields: vec![
                ("body".into(), "第一行\n第二行\t制表 \\ 反斜杠".into()),
                ("choice".into(), "2".into()),
                ("empty".into(), String::new()),
            ],
            hidden: vec![("parent".into(), "12".into())],
        };
        assert_eq!(Draft::decode(&d.encode()), Some(d));
        assert_eq!(Draft::decode("something else"), None);
        assert_eq!(Draft::decode("zhsq-draft-1\nid\n/p\n/a\nnot-a-time"), None);
    }

    #[test]
    fn a_reply_is_told_from_the_comment_form_by_its_hidden_fields() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        let draft = vec![pair("id", "1"), pair("parent", "12")];
        assert_eq!(hidden_agreement(&draft, &[pair("id", "1")]), Some(1));
        assert_eq!(hidden_agreement(&draft, &[pair("id", "1"), pair("parent", "12")]), Some(2));
        assert_eq!(hidden_agreement(&draft, &[pair("id", "1"), pair("parent", "13")]), None);
        // the topic's own comment form is not a reply's
        let top = vec![pair("id", "1")];
        assert!(
            hidden_agreement(&top, &[pair("id", "1")])
                > hidden_agreement(&top, &[pair("id", "1"), pair("parent", "12")])
        );
    }

    #[test]
    fn drafts_never_keep_secrets() {
        assert!(keeps_field("body", "textarea"));
        assert!(keeps_field("phone", "tel"));
        for (name, kind) in [
            ("password", "password"),
            ("code", "text"),
            ("id_number", "text"),
            ("topic_id", "hidden"),
            ("photo", "file"),
        ] {
            assert!(!keeps_field(name, kind), "{name}");
        }
    }

    #[test]
    fn the_cookie_names_the_draft_still_unanswered() {
        assert_eq!(cookie_draft("a=1; zhsq_draft=42; b=2"), Some("42"));
        assert_eq!(cookie_draft("zhsq_draft=; a=1"), None);
        assert_eq!(cookie_draft("zhsq_lang=en"), None);
    }

    #[test]
    fn countdown_fills_its_template() {
        assert_eq!(countdown_text("{n} 秒后可重新获取", 42), "42 秒后可重新获取");
        assert_eq!(countdown_text("Resend in {n} s", 1), "Resend in 1 s");
    }
}
