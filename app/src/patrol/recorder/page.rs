//! What the recorder changes on the server's page besides the status line:
//! a check-in the server judged, shown beside its checkpoint with the next
//! step, as the server's own page would show it after a reload.

use domain::patrol::CheckinView;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlButtonElement};

use crate::i18n::{t, Lang};

fn el(doc: &Document, tag: &str, class: &str, text: &str) -> Option<Element> {
    let e = doc.create_element(tag).ok()?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    Some(e)
}

/// A judged check-in beside its checkpoint (or under the status line when
/// the checkpoint is not on this page), and the next step: done, or try
/// again and how.
pub(super) fn show_checkin(doc: &Document, c: &CheckinView, lang: Lang) -> Option<()> {
    let line = el(doc, "li", if c.accepted { "ok" } else { "flag" }, "")?;
    let verdict = if c.accepted { t(lang, "签到有效", "accepted") } else { t(lang, "签到存疑", "flagged") };
    let head = el(doc, "strong", "", &format!("{} {verdict}", c.at))?;
    line.append_child(&head).ok()?;
    for e in &c.evidence {
        let piece = el(doc, "span", "meta", e)?;
        line.append_child(&piece).ok()?;
    }
    let li = doc.get_element_by_id(&format!("cp{}", c.checkpoint_id));
    let list = li.as_ref().and_then(|li| li.query_selector("ul.evidence").ok().flatten());
    let (Some(li), Some(list)) = (li, list) else {
        // not on this page: under the status line
        let rec = doc.get_element_by_id("rec")?;
        rec.parent_node()?.insert_before(&line, rec.next_sibling().as_ref()).ok()?;
        return Some(());
    };
    list.append_child(&line).ok()?;
    let form = li.query_selector("form[data-outbox=checkin]").ok().flatten();
    let button = form
        .as_ref()
        .and_then(|f| f.query_selector("button").ok().flatten())
        .and_then(|b| b.dyn_into::<HtmlButtonElement>().ok());
    if let Some(b) = &button {
        if let Some(label) = b.get_attribute("data-label") {
            b.set_text_content(Some(&label));
            b.set_disabled(false);
        }
    }
    if c.accepted {
        let _ = li.class_list().add_1("done");
        if let Some(f) = &form {
            let ok = el(
                doc,
                "p",
                "success",
                t(lang, "已签到,请前往下一个点位。", "Checked in. Go on to the next checkpoint."),
            )?;
            f.parent_node()?.replace_child(&ok, f).ok()?;
        }
    } else if !li.class_list().contains("done") {
        if let Some(b) = &button {
            b.set_text_content(Some(t(lang, "再次签到", "Check in again")));
            let _ = b.remove_attribute("data-label");
        }
        if li.query_selector("p.notice").ok().flatten().is_none() {
            if let Some(f) = &form {
                let hint = el(
                    doc,
                    "p",
                    "notice",
                    t(
                        lang,
                        "签到未通过。请走到点位旁,等手机定位稳定后再签到一次。",
                        "Not accepted. Walk up to the checkpoint, let the phone's position settle, then check in again.",
                    ),
                )?;
                f.parent_node()?.insert_before(&hint, Some(f)).ok()?;
            }
        }
    }
    Some(())
}
