//! A resident's bookings: the list, one booking with its QR code, cancelling and moving it.

use super::*;

#[component]
pub fn MyBookingsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| my_bookings());
    view! {
        <Page
            title=("我的预约", "My bookings")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                view! {
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match list.await {
                                Ok(v) if v.is_empty() => {
                                    view! {
                                        <p class="empty">
                                            {t(lang, "还没有预约记录。", "No bookings yet.")}" "
                                            <a href="/appointments">{t(lang, "去预约", "Book something")}</a>
                                        </p>
                                    }
                                        .into_any()
                                }
                                Ok(v) => {
                                    view! {
                                        <ul class="list card">
                                            {v
                                                .into_iter()
                                                .map(|b| {
                                                    view! {
                                                        <li class=if b.upcoming { "" } else { "past" }>
                                                            <a href=format!("/appointments/bookings/{}", b.id)>
                                                                <span class="title">{b.item.clone()}</span>
                                                                <span class="meta">
                                                                    <span class="nw">{b.date.clone()}</span>
                                                                    " "
                                                                    {b.start.clone()}
                                                                    "–"
                                                                    {b.end.clone()}
                                                                    " · "
                                                                    {b.place.clone()}
                                                                </span>
                                                                <span class=status_class(
                                                                    b.status,
                                                                )>{b.status.label(en)}</span>
                                                            </a>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                }
                                Err(e) => view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }
        />
    }
}

#[component]
pub fn BookingPage() -> impl IntoView {
    let id = param_id();
    let data = Resource::new(move || id, booking_page);
    view! {
        <Page
            title=("预约详情", "Booking")
            render=move |s: SessionInfo| {
                let lang = s.lang;
                let en = lang.is_en();
                let error = q("error").map(|c| code_text(&c, lang));
                let done = q("done");
                view! {
                    <Suspense fallback=|| ()>
                        {move || {
                            let error = error.clone();
                            let done = done.clone();
                            Suspend::new(async move {
                                let d = match data.await {
                                    Ok(d) => d,
                                    Err(e) => {
                                        return view! { <FormError message=Some(error_text(&e, lang)) /> }.into_any();
                                    }
                                };
                                let b = d.booking;
                                let id = b.id.to_string();
                                let holds = b.status.holds_seat();
                                view! {
                                    {done
                                        .map(|x| {
                                            view! {
                                                <p class="success" role="status">
                                                    {match x.as_str() {
                                                        "booked" => {
                                                            t(
                                                                lang,
                                                                "预约成功!到场时出示下方二维码或预约码。",
                                                                "Booked! Show the QR code or the code below at the desk.",
                                                            )
                                                        }
                                                        "cancel" => {
                                                            t(lang, "已取消预约。", "The booking is cancelled.")
                                                        }
                                                        "accept" => {
                                                            t(
                                                                lang,
                                                                "已确认,名额是您的了。",
                                                                "Confirmed: the seat is yours.",
                                                            )
                                                        }
                                                        _ => {
                                                            t(
                                                                lang,
                                                                "已放弃候补名额。",
                                                                "You declined the seat.",
                                                            )
                                                        }
                                                    }}
                                                </p>
                                            }
                                        })}
                                    <FormError message=error />
                                    <section class="card booking">
                                        <h2>{b.item.clone()}</h2>
                                        <p class="when">
                                            <strong>
                                                {parse_day(&b.date).map(|x| day_label(x, en)).unwrap_or_default()}" "
                                                {b.start.clone()}"–"{b.end.clone()}
                                            </strong>
                                        </p>
                                        <p class="meta">{b.community.clone()}" · "{b.place.clone()}</p>
                                        <p>
                                            <span class=status_class(b.status)>{b.status.label(en)}</span>
                                        </p>
                                        {b
                                            .cancel_reason
                                            .clone()
                                            .map(|r| view! { <p class="meta">{t(lang, "原因:", "Reason: ")}{r}</p> })}
                                        {holds
                                            .then(|| {
                                                view! {
                                                    <figure class="qr">
                                                        <div
                                                            class="qr-img"
                                                            role="img"
                                                            aria-label=t(lang, "预约二维码", "Booking QR code")
                                                            inner_html=d.qr.clone()
                                                        ></div>
                                                        <figcaption>
                                                            {t(lang, "预约码", "Code")}" "
                                                            <strong class="code">{b.code.clone()}</strong>
                                                        </figcaption>
                                                    </figure>
                                                }
                                            })}
                                        {(!b.guide.is_empty())
                                            .then(|| {
                                                view! {
                                                    <h3>{t(lang, "办事指南", "What to bring")}</h3>
                                                    <p class="guide">{b.guide.clone()}</p>
                                                }
                                            })}
                                    </section>
                                    {(d.mine && b.status == BookingStatus::Offered)
                                        .then(|| {
                                            view! {
                                                <section class="card">
                                                    <p class="notice">
                                                        {t(
                                                            lang,
                                                            "候补到号!名额为您保留至 ",
                                                            "A seat is held for you until ",
                                                        )}{b.offer_expires_at.clone().unwrap_or_default()}
                                                        {t(
                                                            lang,
                                                            "(北京时间),逾期顺延给下一位。",
                                                            " (Beijing time); after that it passes on.",
                                                        )}
                                                    </p>
                                                    <form method="post" action=ChangeBooking::PATH class="row">
                                                        <input type="hidden" name="id" value=id.clone() />
                                                        <input type="hidden" name="action" value="accept" />
                                                        <button type="submit" class="primary wide">
                                                            {t(lang, "确认预约", "Take the seat")}
                                                        </button>
                                                    </form>
                                                    <form method="post" action=ChangeBooking::PATH class="row">
                                                        <input type="hidden" name="id" value=id.clone() />
                                                        <input type="hidden" name="action" value="decline" />
                                                        <button type="submit" class="danger wide">
                                                            {t(lang, "放弃", "Decline")}
                                                        </button>
                                                    </form>
                                                </section>
                                            }
                                        })}
                                    {(d.mine && b.status == BookingStatus::Booked)
                                        .then(|| {
                                            view! {
                                                <section class="card">
                                                    <p>
                                                        <a
                                                            class="button"
                                                            href=format!("/appointments/bookings/{}/calendar.ics", b.id)
                                                            download="appointment.ics"
                                                        >
                                                            {t(lang, "添加到日历", "Add to calendar")}
                                                        </a>
                                                    </p>
                                                    <p class="meta">
                                                        {t(
                                                            lang,
                                                            "可在线取消或改约至 ",
                                                            "You can cancel or move it online until ",
                                                        )}<span class="nw">{b.cancel_deadline.clone()}</span>
                                                        {t(lang, "(北京时间)", " (Beijing time)")}
                                                    </p>
                                                    {if b.can_cancel {
                                                        view! {
                                                            <p>
                                                                <a
                                                                    class="button"
                                                                    href=format!(
                                                                        "/appointments/items/{}?moving={}",
                                                                        b.item_id,
                                                                        b.id,
                                                                    )
                                                                >
                                                                    {t(lang, "改约", "Move")}
                                                                </a>
                                                            </p>
                                                        }
                                                            .into_any()
                                                    } else {
                                                        view! {
                                                            <p class="notice">
                                                                {t(
                                                                    lang,
                                                                    "已过取消截止时间,不能在线取消或改约;如有变化请联系社区工作人员。",
                                                                    "Past the cancellation deadline: please contact community staff for changes.",
                                                                )}
                                                            </p>
                                                        }
                                                            .into_any()
                                                    }}
                                                    // past the deadline the server refuses it, in words
                                                    <crate::layout::ConfirmPost
                                                        label=t(lang, "取消预约", "Cancel booking")
                                                        question=t(
                                                            lang,
                                                            "确定要取消这次预约吗?取消后这个时段可能被别人约走。",
                                                            "Cancel this booking? Someone else may then take the time.",
                                                        )
                                                        yes=t(lang, "确定取消", "Yes, cancel it")
                                                        no=t(lang, "不取消", "Keep it")
                                                        action=ChangeBooking::PATH
                                                        fields=vec![
                                                            ("id", id.clone()),
                                                            ("action", "cancel".to_string()),
                                                        ]
                                                    />
                                                </section>
                                            }
                                        })}
                                    <p>
                                        <a href="/appointments">{t(lang, "‹ 返回预约", "‹ Appointments")}</a>
                                    </p>
                                }
                                    .into_any()
                            })
                        }}
                    </Suspense>
                }
            }
        />
    }
}
