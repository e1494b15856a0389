//! XML for other programs (GPX, Open311 GeoReport): written with
//! quick-xml's writer, which escapes every text and attribute value, rather
//! than pasted together from strings. Characters XML 1.0 cannot carry
//! (control characters other than tab and line breaks) are left out first.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// An XML document being written, with its declaration.
pub struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    /// A document indented by two spaces (GPX, read by people too).
    pub fn indented() -> Xml {
        Xml::start(Writer::new_with_indent(Vec::new(), b' ', 2))
    }

    /// A document on one line (Open311 answers).
    pub fn compact() -> Xml {
        Xml::start(Writer::new(Vec::new()))
    }

    fn start(w: Writer<Vec<u8>>) -> Xml {
        let mut x = Xml { w };
        x.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        x
    }

    // Writing into a `Vec` cannot fail.
    fn event(&mut self, e: Event<'_>) {
        let _ = self.w.write_event(e);
    }

    /// `<name a="…">`: attributes escaped by the writer.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Xml {
        let e = element(name, attrs);
        self.event(Event::Start(e));
        self
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Xml {
        self.event(Event::End(BytesEnd::new(name)));
        self
    }

    /// `<name a="…"/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Xml {
        let e = element(name, attrs);
        self.event(Event::Empty(e));
        self
    }

    /// `<name>text</name>`, the text escaped.
    pub fn text(&mut self, name: &str, text: &str) -> &mut Xml {
        self.event(Event::Start(BytesStart::new(name)));
        let clean = domain::text::xml_chars(text);
        self.event(Event::Text(BytesText::new(&clean)));
        self.event(Event::End(BytesEnd::new(name)));
        self
    }

    pub fn finish(self) -> String {
        let mut out = String::from_utf8(self.w.into_inner()).unwrap_or_default();
        out.push('\n');
        out
    }
}

fn element<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
    let mut e = BytesStart::new(name);
    for (k, v) in attrs {
        e.push_attribute((*k, domain::text::xml_chars(v).as_ref()));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_and_control_characters_left_out() {
        let mut x = Xml::compact();
        x.open("a", &[("q", "\"<&>'")]).text("b", "x < y & \u{1}z").empty("c", &[]).close("a");
        let s = x.finish();
        assert_eq!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a q=\"&quot;&lt;&amp;&gt;&apos;\"><b>x &lt; y &amp; z</b><c/></a>\n"
        );
    }
}
