//! Text the system writes for a person — an inbox message, a points ledger
//! line — stored as a key with parameters and put into words in the
//! reader's language when it is shown, not when it is written (issue 21:
//! English mode showed such text in Chinese).
//!
//! Stored form: `§key|name=value|name=value`, values escaped (`\|`, `\\`).
//! Text without the mark (older rows, text a person typed) is shown as it is.
//! A few parameter names are themselves put into words: `date`
//! ("2026-12-07" → "12月7日" / "7 Dec"), `category` (an incident category's
//! code), `minutes` (service time), `reason` (an incident's reject reason).

const MARK: char = '§';

/// A message to store: `Msg::new("booking.booked").with("item", name).encode()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    key: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Msg {
    pub fn new(key: &'static str) -> Msg {
        Msg { key, params: vec![] }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Msg {
        self.params.push((name, value.to_string()));
        self
    }

    pub fn encode(&self) -> String {
        let mut s = String::new();
        s.push(MARK);
        s.push_str(self.key);
        for (k, v) in &self.params {
            s.push('|');
            s.push_str(k);
            s.push('=');
            for c in v.chars() {
                if c == '|' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
        }
        s
    }

    /// In the reader's words.
    pub fn text(&self, english: bool) -> String {
        let owned: Vec<(String, String)> = self.params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        fill(self.key, &owned, english).unwrap_or_else(|| self.encode())
    }
}

/// Stored text in the reader's language: a message is put into words, any
/// other text is returned as it is.
pub fn render(stored: &str, english: bool) -> String {
    let Some(rest) = stored.strip_prefix(MARK) else { return stored.to_string() };
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(p)) = (chars.next(), parts.last_mut()) {
                    p.push(n);
                }
            }
            '|' => parts.push(String::new()),
            c => {
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    let key = parts.remove(0);
    let params: Vec<(String, String)> =
        parts.into_iter().filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect();
    fill(&key, &params, english).unwrap_or_else(|| stored.to_string())
}

/// (zh, en) templates, `{name}` where a parameter goes.
fn template(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        // bills: how an amount was reached
        "bill.basis.property" => {
            ("{area}\u{a0}m² × {price}/m²/月 × {months} 个月", "{area}\u{a0}m² × {price}/m²/month × {months} month(s)")
        }
        "bill.basis.water" => ("{tonnes} 吨 × {price}/吨", "{tonnes} t × {price}/t"),
        // payments
        "payment.paid.title" => ("缴费成功 {amount}", "Paid: {amount}"),
        "payment.paid.body" => {
            ("订单 {order} 已支付,收据编号 {receipt}。", "Order {order} is paid; receipt number {receipt}.")
        }
        "payment.refund.title" => ("退款 {amount}", "Refund: {amount}"),
        "payment.refund.body" => (
            "订单 {order} 退款 {amount}:{why}。款项将原路退回。",
            "Order {order}: {amount} refunded ({why}). It goes back the way it was paid.",
        ),
        // residence
        "residence.approved.title" => ("住户认证已通过", "Your home is verified"),
        "residence.approved.body" => ("您在{community}的住户认证已通过。", "Your home in {community} is verified."),
        "residence.rejected.title" => ("住户认证未通过", "Your home could not be verified"),
        "residence.rejected.body" => {
            ("您在{community}的住户认证未通过:{why}", "Your home in {community} could not be verified: {why}")
        }
        // appointments (reminders, waiting list, closures)
        "booking.reminder.title" => ("预约提醒:{item}", "Reminder: {item}"),
        "booking.offer.title" => ("候补到号:{item}", "A place for you: {item}"),
        "booking.offer.body" => (
            "{date} {start} 的名额已为您保留至 {until},请尽快确认,逾期顺延给下一位。",
            "A place on {date} at {start} is held for you until {until}; confirm soon or it goes to the next person.",
        ),
        "booking.closed.title" => ("预约已取消:{item}", "Booking cancelled: {item}"),
        "booking.closed.body" => (
            "{date} {start} 的预约因{why}取消,请另选时间。",
            "Your booking on {date} at {start} is cancelled ({why}); please choose another time.",
        ),
        // volunteering (cancelled, starting, promoted)
        "volunteer.cancelled.title" => ("志愿活动已取消:{title}", "Activity cancelled: {title}"),
        "volunteer.cancelled.body" => {
            ("原定 {at} 在{place}举行的活动已取消。", "The activity at {place} on {at} is cancelled.")
        }
        "volunteer.starting.title" => ("志愿活动即将开始:{title}", "Starting soon: {title}"),
        "volunteer.starting.body" => (
            "{at} 在{place},到场后请扫描组织者手机上的二维码签到。",
            "{at} at {place}. When you arrive, scan the code on the organiser's phone to check in.",
        ),
        "volunteer.promoted.title" => ("候补成功:{title}", "You have a place: {title}"),
        "volunteer.promoted.body" => (
            "有人取消了报名,您已获得名额。活动时间 {at},地点 {place}。",
            "Someone withdrew and the place is yours: {at}, {place}.",
        ),
        // appointments
        "booking.booked.title" => ("预约成功:{item}", "Booked: {item}"),
        "booking.booked.body" => {
            ("{date} {start}–{end},{place}。预约码 {code}", "{date} {start}–{end}, {place}. Booking code {code}")
        }
        "booking.cancelled.title" => ("已取消预约:{item}", "Booking cancelled: {item}"),
        "booking.cancelled.body" => ("{date} {start} 的预约已取消。", "Your booking for {date} {start} is cancelled."),
        // volunteering
        "volunteer.signed.title" => ("报名成功:{title}", "Signed up: {title}"),
        "volunteer.waitlisted.title" => ("已加入候补:{title}", "On the waitlist: {title}"),
        "volunteer.signed.body" => ("{date},{place}。", "{date}, {place}."),
        "volunteer.confirmed.title" => ("志愿时长已确认:{title}", "Volunteer hours confirmed: {title}"),
        "volunteer.confirmed.body" => {
            ("记录时长 {minutes},获得 {points} 积分。", "{minutes} recorded; {points} points earned.")
        }
        "volunteer.confirmed.body_no_points" => ("记录时长 {minutes}。", "{minutes} recorded."),
        // points
        "mall.redeemed.title" => ("兑换成功:{item}", "Redeemed: {item}"),
        "mall.redeemed.body" => (
            "用去 {cost} 积分。请在 {days} 天内凭兑换码到社区领取。",
            "{cost} points used. Collect it at the community office with the code within {days} days.",
        ),
        "ledger.redeem" => ("兑换 {item}", "Redeemed: {item}"),
        "ledger.service" => ("{title} · {minutes}", "{title} · {minutes}"),
        "ledger.expired" => ("兑换未按时领取,积分退回", "Not collected in time: points returned"),
        "ledger.cancelled" => ("取消兑换,积分退回", "Redemption cancelled: points returned"),
        // incidents: the reporter hears of each step
        "incident.received.title" => ("已收到您的上报:{category}", "Your report is received: {category}"),
        "incident.received.body" => (
            "编号 #{id}。受理、派人、办结,每一步都会在这里告诉您。",
            "Number #{id}. Each step — accepted, someone sent, done — will be told here.",
        ),
        "incident.accepted" => ("您上报的事件已受理,正在安排处理", "Your report is accepted and being arranged"),
        "incident.dispatched" => {
            ("您上报的事件已派人处理,预计 {deadline} 前办结", "Someone is sent to your report; due by {deadline}")
        }
        "incident.handled" => {
            ("您上报的事件已处置,社区核查后办结", "Your report is dealt with; the community checks it, then closes it")
        }
        "incident.rejected" => ("您上报的事件未予立案:{reason}", "Your report was not taken up: {reason}"),
        "incident.closed" => {
            ("您上报的事件已办结,请评价办理结果", "Your report is closed; please rate how it was handled")
        }
        // incidents: the work of grid workers and staff
        "incident.new.title" => ("新事件待受理:{category}", "New report to accept: {category}"),
        "incident.assigned" => {
            ("新派遣的事件,请在 {deadline} 前办结", "A report is sent to you; finish it by {deadline}")
        }
        "incident.to_verify" => ("事件已处置,待核查", "A report is dealt with and waits for your check"),
        "incident.sent_back" => ("事件核查未通过,已退回重办", "A report did not pass the check and is sent back"),
        "incident.extension.asked" => ("申请延期至 {until}", "More time asked for, until {until}"),
        "incident.extension.approved" => {
            ("延期已批准,新时限 {until}", "More time granted; the new deadline is {until}")
        }
        "incident.extension.refused" => ("延期申请未获批准", "More time was not granted"),
        "incident.overdue" => ("事件已超期(第 {level} 次督办)", "A report is overdue (reminder {level})"),
        // deliberation and votes
        "topic.published.title" => ("议题已发布:{title}", "Your topic is published: {title}"),
        "topic.published.body" => {
            ("您提出的议题已通过审核,居民可以参与讨论。", "Your topic passed review; residents can now discuss it.")
        }
        "topic.rejected.title" => ("议题未通过审核:{title}", "Your topic was not published: {title}"),
        "topic.rejected.body" => ("原因:{why}", "Reason: {why}"),
        "vote.remind.title" => ("请参加投票:{title}", "Please vote: {title}"),
        "vote.remind.body" => {
            ("投票将于 {until} 截止,您尚未投票。", "Voting closes {until}, and you have not voted yet.")
        }
        // a person who has not given a name: the last four digits of the phone
        "person" => ("居民{n}", "Resident {n}"),
        _ => return None,
    })
}

fn fill(key: &str, params: &[(String, String)], english: bool) -> Option<String> {
    let (zh, en) = template(key)?;
    let mut out = if english { en } else { zh }.to_string();
    for (name, value) in params {
        out = out.replace(&format!("{{{name}}}"), &words(name, value, english));
    }
    Some(out)
}

/// A parameter in the reader's words.
fn words(name: &str, value: &str, english: bool) -> String {
    match name {
        "date" => match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(d) if english => d.format("%-d %b").to_string(),
            Ok(d) => d.format("%-m月%-d日").to_string(),
            Err(_) => value.to_string(),
        },
        "category" => crate::incidents::Category::parse(value)
            .map(|c| c.name(english).to_string())
            .unwrap_or_else(|| value.to_string()),
        "minutes" => value
            .parse::<i64>()
            .map(|m| crate::volunteer::minutes_text(m, english))
            .unwrap_or_else(|_| value.to_string()),
        // instants (RFC 3339, UTC) in Beijing time; older rows hold them already
        // written out ("2026-12-05 18:00"), which is shown as it is
        "deadline" | "until" => crate::time::short_of_rfc3339(value, english),
        "reason" => crate::incidents::RejectReason::parse(value)
            .map(|r| r.text(english).to_string())
            .unwrap_or_else(|| value.to_string()),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_put_into_the_readers_words() {
        let stored = Msg::new("booking.booked.body")
            .with("date", "2026-12-07")
            .with("start", "09:00")
            .with("end", "09:30")
            .with("place", "党群服务中心 | 一楼")
            .with("code", "K7MX")
            .encode();
        assert!(stored.starts_with('§'));
        assert_eq!(render(&stored, false), "12月7日 09:00–09:30,党群服务中心 | 一楼。预约码 K7MX");
        assert_eq!(render(&stored, true), "7 Dec 09:00–09:30, 党群服务中心 | 一楼. Booking code K7MX");
        let r = Msg::new("incident.received.title").with("category", "home_repair").encode();
        assert_eq!(render(&r, true), "Your report is received: Home repair");
        assert_eq!(render(&r, false), "已收到您的上报:入户报修");
        let m = Msg::new("ledger.service").with("title", "清洁日").with("minutes", 180).encode();
        assert_eq!(render(&m, false), "清洁日 · 3 小时");
        let d = Msg::new("incident.assigned").with("deadline", "2026-12-05T10:00:00Z").encode();
        assert_eq!(render(&d, false), "新派遣的事件,请在 12月5日 18:00 前办结");
        assert_eq!(render(&d, true), "A report is sent to you; finish it by 5 Dec 18:00");
        // an older row with the time already written out
        let old = Msg::new("incident.dispatched").with("deadline", "2026-12-05 18:00").encode();
        assert_eq!(render(&old, false), "您上报的事件已派人处理,预计 2026-12-05 18:00 前办结");
        let n = Msg::new("person").with("n", "0042").encode();
        assert_eq!((render(&n, false).as_str(), render(&n, true).as_str()), ("居民0042", "Resident 0042"));
    }

    #[test]
    fn other_text_is_shown_as_it_is() {
        assert_eq!(render("停水通知", true), "停水通知");
        assert_eq!(render("", false), "");
        // an unknown key (a newer server's message read by an older one) is not lost
        assert_eq!(render("§no.such.key|a=1", false), "§no.such.key|a=1");
        // escapes round-trip
        let s = Msg::new("ledger.redeem").with("item", r"a\b|c=d").encode();
        assert_eq!(render(&s, false), r"兑换 a\b|c=d");
    }
}
