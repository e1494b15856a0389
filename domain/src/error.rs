//! Error policy: one closed set of stable snake_case codes. The server maps a
//! code to an HTTP status in one place; the UI translates the code into the
//! user's language. Internal causes go to the logs, never to users.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidPhone,
    InvalidIdNumber,
    InvalidCode,
    CodeExpired,
    TooManyAttempts,
    RateLimited,
    InvalidCredentials,
    AccountLocked,
    NotRegistered,
    NotLoggedIn,
    SessionExpired,
    Forbidden,
    NotFound,
    InvalidTitle,
    InvalidBody,
    InvalidInput,
    InvalidFile,
    InvalidArea,
    ReasonRequired,
    AlreadyDecided,
    WechatFailed,
    Conflict,
    InvalidTime,
    SlotFull,
    TooLateToBook,
    TooLateToCancel,
    OutsideWindow,
    QuotaReached,
    NotVerified,
    NoShowLimit,
    SlotClosed,
    OfferExpired,
    AlreadyWaiting,
    CapacityBelowBooked,
    InvalidIdempotencyKey,
    IdempotencyMismatch,
    IdempotencyInFlight,
    InvalidAmount,
    InvalidPeriod,
    BillInPayment,
    BillNotPayable,
    OrderNotPayable,
    RefundTooLarge,
    PaymentUnavailable,
    BadSignature,
    InvalidChoice,
    AlreadyVoted,
    VoteNotOpen,
    NotOnRoll,
    RollIncomplete,
    NeedsDesignation,
    SameStaff,
    InvalidPoints,
    NotEnoughPoints,
    OutOfStock,
    QrExpired,
    NotSignedUp,
    NotCheckedIn,
    OutsideGeofence,
    LocationRequired,
    ActivityClosed,
    NotCheckedOut,
    InvalidComment,
    TopicNotOpen,
    CheckInNotOpen,
    InvalidLocation,
    InvalidRadius,
    #[serde(rename = "invalid_geojson")]
    InvalidGeoJson,
    PatrolUnderWay,
    NoPatrol,
    InvalidDevice,
    DeviceTaken,
    CheckpointInUse,
    InvalidCategory,
    IncidentState,
    InvalidRating,
    InvalidPhoto,
    TooManyPhotos,
    ExtensionPending,
    PlaceRequired,
    InvalidPlan,
    /// A patrol plan's window shorter than 10 minutes.
    PlanTooShort,
    /// A community's contact number that is no number.
    InvalidContactNumber,
    /// A name a person gives themselves that is empty, too long or not text.
    InvalidName,
    /// A payment asked for with no bill ticked.
    NoBillChosen,
    /// One payment covers the bills of one community only.
    BillsOfOneCommunity,
    InvalidDateRange,
    InvalidOutline,
    CrossSite,
    TooLarge,
    /// The database or Redis cannot be reached right now (a restart, say).
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 92] = [
        ErrorCode::InvalidPhone,
        ErrorCode::InvalidIdNumber,
        ErrorCode::InvalidCode,
        ErrorCode::CodeExpired,
        ErrorCode::TooManyAttempts,
        ErrorCode::RateLimited,
        ErrorCode::InvalidCredentials,
        ErrorCode::AccountLocked,
        ErrorCode::NotRegistered,
        ErrorCode::NotLoggedIn,
        ErrorCode::SessionExpired,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::InvalidTitle,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidInput,
        ErrorCode::InvalidFile,
        ErrorCode::InvalidArea,
        ErrorCode::ReasonRequired,
        ErrorCode::AlreadyDecided,
        ErrorCode::WechatFailed,
        ErrorCode::Conflict,
        ErrorCode::InvalidTime,
        ErrorCode::SlotFull,
        ErrorCode::TooLateToBook,
        ErrorCode::TooLateToCancel,
        ErrorCode::OutsideWindow,
        ErrorCode::QuotaReached,
        ErrorCode::NotVerified,
        ErrorCode::NoShowLimit,
        ErrorCode::SlotClosed,
        ErrorCode::OfferExpired,
        ErrorCode::AlreadyWaiting,
        ErrorCode::CapacityBelowBooked,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::IdempotencyMismatch,
        ErrorCode::IdempotencyInFlight,
        ErrorCode::InvalidAmount,
        ErrorCode::InvalidPeriod,
        ErrorCode::BillInPayment,
        ErrorCode::BillNotPayable,
        ErrorCode::OrderNotPayable,
        ErrorCode::RefundTooLarge,
        ErrorCode::PaymentUnavailable,
        ErrorCode::BadSignature,
        ErrorCode::InvalidChoice,
        ErrorCode::AlreadyVoted,
        ErrorCode::VoteNotOpen,
        ErrorCode::NotOnRoll,
        ErrorCode::RollIncomplete,
        ErrorCode::NeedsDesignation,
        ErrorCode::SameStaff,
        ErrorCode::InvalidPoints,
        ErrorCode::NotEnoughPoints,
        ErrorCode::OutOfStock,
        ErrorCode::QrExpired,
        ErrorCode::NotSignedUp,
        ErrorCode::NotCheckedIn,
        ErrorCode::OutsideGeofence,
        ErrorCode::LocationRequired,
        ErrorCode::ActivityClosed,
        ErrorCode::NotCheckedOut,
        ErrorCode::InvalidComment,
        ErrorCode::TopicNotOpen,
        ErrorCode::CheckInNotOpen,
        ErrorCode::InvalidLocation,
        ErrorCode::InvalidRadius,
        ErrorCode::InvalidGeoJson,
        ErrorCode::PatrolUnderWay,
        ErrorCode::NoPatrol,
        ErrorCode::InvalidDevice,
        ErrorCode::DeviceTaken,
        ErrorCode::CheckpointInUse,
        ErrorCode::InvalidCategory,
        ErrorCode::IncidentState,
        ErrorCode::InvalidRating,
        ErrorCode::InvalidPhoto,
        ErrorCode::TooManyPhotos,
        ErrorCode::ExtensionPending,
        ErrorCode::PlaceRequired,
        ErrorCode::InvalidPlan,
        ErrorCode::PlanTooShort,
        ErrorCode::InvalidContactNumber,
        ErrorCode::InvalidName,
        ErrorCode::NoBillChosen,
        ErrorCode::BillsOfOneCommunity,
        ErrorCode::InvalidDateRange,
        ErrorCode::InvalidOutline,
        ErrorCode::CrossSite,
        ErrorCode::TooLarge,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPhone => "invalid_phone",
            ErrorCode::InvalidIdNumber => "invalid_id_number",
            ErrorCode::InvalidCode => "invalid_code",
            ErrorCode::CodeExpired => "code_expired",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::NotLoggedIn => "not_logged_in",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidTitle => "invalid_title",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidFile => "invalid_file",
            ErrorCode::InvalidArea => "invalid_area",
            ErrorCode::ReasonRequired => "reason_required",
            ErrorCode::AlreadyDecided => "already_decided",
            ErrorCode::WechatFailed => "wechat_failed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidTime => "invalid_time",
            ErrorCode::SlotFull => "slot_full",
            ErrorCode::TooLateToBook => "too_late_to_book",
            ErrorCode::TooLateToCancel => "too_late_to_cancel",
            ErrorCode::OutsideWindow => "outside_window",
            ErrorCode::QuotaReached => "quota_reached",
            ErrorCode::NotVerified => "not_verified",
            ErrorCode::NoShowLimit => "no_show_limit",
            ErrorCode::SlotClosed => "slot_closed",
            ErrorCode::OfferExpired => "offer_expired",
            ErrorCode::AlreadyWaiting => "already_waiting",
            ErrorCode::CapacityBelowBooked => "capacity_below_booked",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
            ErrorCode::IdempotencyMismatch => "idempotency_mismatch",
            ErrorCode::IdempotencyInFlight => "idempotency_in_flight",
            ErrorCode::InvalidAmount => "invalid_amount",
            ErrorCode::InvalidPeriod => "invalid_period",
            ErrorCode::BillInPayment => "bill_in_payment",
            ErrorCode::BillNotPayable => "bill_not_payable",
            ErrorCode::OrderNotPayable => "order_not_payable",
            ErrorCode::RefundTooLarge => "refund_too_large",
            ErrorCode::PaymentUnavailable => "payment_unavailable",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::InvalidChoice => "invalid_choice",
            ErrorCode::AlreadyVoted => "already_voted",
            ErrorCode::VoteNotOpen => "vote_not_open",
            ErrorCode::NotOnRoll => "not_on_roll",
            ErrorCode::RollIncomplete => "roll_incomplete",
            ErrorCode::NeedsDesignation => "needs_designation",
            ErrorCode::SameStaff => "same_staff",
            ErrorCode::InvalidPoints => "invalid_points",
            ErrorCode::NotEnoughPoints => "not_enough_points",
            ErrorCode::OutOfStock => "out_of_stock",
            ErrorCode::QrExpired => "qr_expired",
            ErrorCode::NotSignedUp => "not_signed_up",
            ErrorCode::NotCheckedIn => "not_checked_in",
            ErrorCode::OutsideGeofence => "outside_geofence",
            ErrorCode::LocationRequired => "location_required",
            ErrorCode::ActivityClosed => "activity_closed",
            ErrorCode::NotCheckedOut => "not_checked_out",
            ErrorCode::InvalidComment => "invalid_comment",
            ErrorCode::TopicNotOpen => "topic_not_open",
            ErrorCode::CheckInNotOpen => "check_in_not_open",
            ErrorCode::InvalidLocation => "invalid_location",
            ErrorCode::InvalidRadius => "invalid_radius",
            ErrorCode::InvalidGeoJson => "invalid_geojson",
            ErrorCode::PatrolUnderWay => "patrol_under_way",
            ErrorCode::NoPatrol => "no_patrol",
            ErrorCode::InvalidDevice => "invalid_device",
            ErrorCode::DeviceTaken => "device_taken",
            ErrorCode::CheckpointInUse => "checkpoint_in_use",
            ErrorCode::InvalidCategory => "invalid_category",
            ErrorCode::IncidentState => "incident_state",
            ErrorCode::InvalidRating => "invalid_rating",
            ErrorCode::InvalidPhoto => "invalid_photo",
            ErrorCode::TooManyPhotos => "too_many_photos",
            ErrorCode::ExtensionPending => "extension_pending",
            ErrorCode::PlaceRequired => "place_required",
            ErrorCode::InvalidPlan => "invalid_plan",
            ErrorCode::PlanTooShort => "plan_too_short",
            ErrorCode::InvalidContactNumber => "invalid_contact_number",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::NoBillChosen => "no_bill_chosen",
            ErrorCode::BillsOfOneCommunity => "bills_of_one_community",
            ErrorCode::InvalidDateRange => "invalid_date_range",
            ErrorCode::InvalidOutline => "invalid_outline",
            ErrorCode::CrossSite => "cross_site",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The HTTP status this code is answered with (the one place that decides).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::NotLoggedIn | ErrorCode::SessionExpired => 401,
            ErrorCode::InvalidCredentials => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::NotRegistered => 404,
            ErrorCode::Conflict
            | ErrorCode::AlreadyDecided
            | ErrorCode::SlotFull
            | ErrorCode::AlreadyWaiting
            | ErrorCode::CapacityBelowBooked
            | ErrorCode::IdempotencyInFlight
            | ErrorCode::BillInPayment
            | ErrorCode::BillNotPayable
            | ErrorCode::OrderNotPayable => 409,
            ErrorCode::RefundTooLarge => 422,
            ErrorCode::PaymentUnavailable => 503,
            ErrorCode::BadSignature => 401,
            ErrorCode::AlreadyVoted | ErrorCode::VoteNotOpen => 409,
            ErrorCode::NotEnoughPoints | ErrorCode::OutOfStock => 409,
            ErrorCode::QrExpired => 410,
            ErrorCode::NotSignedUp => 409,
            ErrorCode::NotCheckedIn => 409,
            ErrorCode::OutsideGeofence => 422,
            ErrorCode::LocationRequired => 422,
            ErrorCode::ActivityClosed => 409,
            ErrorCode::NotCheckedOut => 409,
            ErrorCode::InvalidComment => 422,
            ErrorCode::TopicNotOpen => 409,
            ErrorCode::CheckInNotOpen => 409,
            ErrorCode::InvalidLocation => 422,
            ErrorCode::InvalidRadius => 422,
            ErrorCode::InvalidGeoJson => 422,
            ErrorCode::PatrolUnderWay => 409,
            ErrorCode::NoPatrol => 409,
            ErrorCode::InvalidDevice => 422,
            ErrorCode::DeviceTaken => 409,
            ErrorCode::CheckpointInUse => 409,
            ErrorCode::InvalidCategory => 422,
            ErrorCode::IncidentState => 409,
            ErrorCode::InvalidRating => 422,
            ErrorCode::InvalidPhoto => 422,
            ErrorCode::TooManyPhotos => 422,
            ErrorCode::ExtensionPending => 409,
            ErrorCode::PlaceRequired => 422,
            ErrorCode::InvalidPlan | ErrorCode::PlanTooShort => 422,
            ErrorCode::NoBillChosen
            | ErrorCode::BillsOfOneCommunity
            | ErrorCode::InvalidContactNumber
            | ErrorCode::InvalidName => 422,
            ErrorCode::InvalidDateRange => 422,
            ErrorCode::InvalidOutline => 422,
            ErrorCode::CrossSite => 403,
            ErrorCode::TooLarge => 413,
            ErrorCode::Unavailable => 503,
            ErrorCode::NotOnRoll | ErrorCode::NeedsDesignation | ErrorCode::SameStaff => 403,
            ErrorCode::IdempotencyMismatch => 422,
            ErrorCode::NotVerified | ErrorCode::NoShowLimit | ErrorCode::QuotaReached => 403,
            ErrorCode::AccountLocked | ErrorCode::TooManyAttempts | ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            _ => 400,
        }
    }

    /// Message shown to a user, in Chinese (default) or English.
    pub fn message(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            ErrorCode::InvalidPhone => ("请输入正确的11位手机号码", "Please enter a valid 11-digit mobile number"),
            ErrorCode::InvalidIdNumber => (
                "身份证号码不正确:应为18位,最后一位可以是X,请核对出生日期和校验位",
                "That ID number is not valid: 18 characters, the last may be X; check the birth date and the last character",
            ),
            ErrorCode::InvalidCode => ("验证码不正确", "The verification code is not correct"),
            ErrorCode::CodeExpired => ("验证码已失效,请重新获取", "The code has expired; please request a new one"),
            ErrorCode::TooManyAttempts => {
                ("尝试次数过多,请重新获取验证码", "Too many attempts; please request a new code")
            }
            ErrorCode::RateLimited => ("操作太频繁,请稍后再试", "Too many requests; please try again later"),
            ErrorCode::InvalidCredentials => ("账号或密码不正确", "The account or password is not correct"),
            ErrorCode::AccountLocked => (
                "密码错误次数过多,账号已临时锁定15分钟",
                "Too many wrong passwords; the account is locked for 15 minutes",
            ),
            ErrorCode::NotRegistered => {
                ("该手机号尚未登记为网格员或工作人员", "This number is not registered as a grid worker or staff")
            }
            ErrorCode::NotLoggedIn => ("请先登录", "Please log in first"),
            ErrorCode::SessionExpired => ("登录已过期,请重新登录", "Your session has expired; please log in again"),
            ErrorCode::Forbidden => ("您没有权限进行此操作", "You are not allowed to do this"),
            ErrorCode::NotFound => ("内容不存在或已删除", "Not found"),
            ErrorCode::InvalidTitle => ("标题不能为空,且不超过60个字", "The title must be 1 to 60 characters"),
            ErrorCode::InvalidBody => ("正文不能为空,且不超过5000个字", "The text must be 1 to 5000 characters"),
            ErrorCode::InvalidInput => ("填写的内容有误,请检查", "Some input is not valid"),
            ErrorCode::InvalidFile => ("文件有误,请检查", "The file has errors"),
            ErrorCode::InvalidArea => (
                "面积格式不正确,请填写如 89.50 的数字(单位:平方米)",
                "The area must be a number such as 89.50 (square metres)",
            ),
            ErrorCode::ReasonRequired => ("驳回时请填写原因", "Please give a reason for rejecting"),
            ErrorCode::WechatFailed => (
                "微信登录未成功,请用手机号验证码登录",
                "WeChat login did not work; please log in with your phone number",
            ),
            ErrorCode::AlreadyDecided => {
                ("该申请已处理,请刷新后查看", "This request has already been decided; reload to see it")
            }
            ErrorCode::Conflict => ("内容已被他人修改,请刷新后重试", "Changed by someone else; reload and try again"),
            ErrorCode::InvalidTime => (
                "时间有误:请选择今后90天内的时间(北京时间)",
                "The time is not valid: choose a time within the next 90 days (Beijing time)",
            ),
            ErrorCode::SlotFull => (
                "该时段已约满,可以排队候补或选择其他时段",
                "This time is fully booked; join the waiting list or pick another time",
            ),
            ErrorCode::TooLateToBook => (
                "已过预约截止时间(需提前预约),请选择更晚的时段",
                "Too late to book this time (bookings must be made in advance); pick a later time",
            ),
            ErrorCode::TooLateToCancel => (
                "已过取消截止时间,不能在线取消或改约;如有变化请联系社区工作人员",
                "Past the cancellation deadline: this booking can no longer be cancelled or moved online; please contact community staff",
            ),
            ErrorCode::OutsideWindow => (
                "该时段尚未开放预约",
                "This time is not yet open for booking",
            ),
            ErrorCode::QuotaReached => (
                "已达到预约次数上限(按户或按人限额),请在下个周期再约",
                "You have reached the booking limit for this period (per household or per person)",
            ),
            ErrorCode::NotVerified => (
                "该事项仅限本社区已认证住户预约,请先完成住户认证",
                "Only verified residents of this community may book this; please verify your home first",
            ),
            ErrorCode::NoShowLimit => (
                "近90天爽约次数过多,暂不能在线预约,请联系社区工作人员",
                "Too many missed appointments in the last 90 days; please contact community staff to book",
            ),
            ErrorCode::SlotClosed => (
                "该时段已停止预约(闭馆或节假日)",
                "This time is closed (holiday or closure)",
            ),
            ErrorCode::OfferExpired => (
                "候补名额已过保留时间,已顺延给下一位",
                "The held seat has expired and passed to the next person",
            ),
            ErrorCode::AlreadyWaiting => (
                "您已在该时段的候补名单中",
                "You are already on the waiting list for this time",
            ),
            ErrorCode::CapacityBelowBooked => (
                "名额不能少于已预约人数;如需减少,请先与已预约的居民协商取消",
                "Capacity cannot go below the seats already booked",
            ),
            ErrorCode::InvalidIdempotencyKey => (
                "请求标识(Idempotency-Key)格式不正确:应为8到64个字母、数字、- 或 _",
                "The Idempotency-Key must be 8 to 64 letters, digits, - or _",
            ),
            ErrorCode::IdempotencyMismatch => (
                "同一请求标识已用于另一笔不同的请求,请换一个新的标识",
                "This Idempotency-Key was already used for a different request; use a new key",
            ),
            ErrorCode::IdempotencyInFlight => (
                "相同的请求正在处理中,请稍后重试",
                "The same request is still being processed; please retry shortly",
            ),
            ErrorCode::InvalidAmount => (
                "金额格式不正确:请填写如 1.85 的数字(单位:元,最多两位小数)",
                "The amount must be a number such as 1.85 (yuan, at most two decimals)",
            ),
            ErrorCode::InvalidPeriod => (
                "账期格式不正确:请填写如 2026、2026-11 或 2026-Q4",
                "The period must look like 2026, 2026-11 or 2026-Q4",
            ),
            ErrorCode::BillInPayment => (
                "该账单已在另一笔未完成的订单中,请先完成或取消那笔订单",
                "This bill is already in another unfinished order; finish or cancel that order first",
            ),
            ErrorCode::BillNotPayable => (
                "该账单已缴清或已作废,无需再缴",
                "This bill is already paid or void",
            ),
            ErrorCode::OrderNotPayable => (
                "该订单已关闭或已支付,不能再支付;请回到账单页重新下单",
                "This order is closed or already paid; start again from your bills",
            ),
            ErrorCode::RefundTooLarge => (
                "退款金额不能超过已缴且未退的金额",
                "A refund cannot exceed what was paid and not yet refunded",
            ),
            ErrorCode::PaymentUnavailable => (
                "支付服务暂时不可用,请稍后再试;您的账单和已填内容都已保留",
                "The payment service is unavailable right now; please try again later (nothing was charged twice and your bills are kept)",
            ),
            ErrorCode::BadSignature => (
                "签名验证未通过",
                "The signature did not verify",
            ),
            ErrorCode::InvalidChoice => (
                "请选择有效的选项(多选时不要超过规定的数量)",
                "Choose valid options (no more than allowed)",
            ),
            ErrorCode::AlreadyVoted => (
                "您(或您这一户)已经投过票,选票不能更改",
                "A ballot was already cast for you (or your home); ballots cannot be changed",
            ),
            ErrorCode::VoteNotOpen => (
                "该投票不在投票时间内(尚未开始或已经结束)",
                "This vote is not open (not started yet or already closed)",
            ),
            ErrorCode::NotOnRoll => (
                "您不在本次投票的名册中(名册在投票开始时确定,仅限范围内已认证的住户或业主)",
                "You are not on this vote's roll (fixed when voting opened: verified residents or owners in scope only)",
            ),
            ErrorCode::RollIncomplete => (
                "名册不完整:有房屋没有登记面积(产权、实测或合同面积),请先补全后再开始投票",
                "The roll is incomplete: some units have no area (registered, surveyed or contract); complete them before opening the vote",
            ),
            ErrorCode::NeedsDesignation => (
                "这套房屋有多位共有人,需全部共有人指定同一人投票后才能投票",
                "This home has several co-owners; all of them must designate the same person before a ballot can be cast",
            ),
            ErrorCode::SameStaff => (
                "纸质选票须由另一位工作人员确认,录入人不能自己确认",
                "A paper ballot must be confirmed by a different staff member than the one who entered it",
            ),
            ErrorCode::InvalidPoints => (
                "积分须为1到100000之间的整数",
                "Points must be a whole number from 1 to 100,000",
            ),
            ErrorCode::NotEnoughPoints => (
                "积分不足",
                "Not enough points",
            ),
            ErrorCode::OutOfStock => (
                "该商品已兑完",
                "This item is out of stock",
            ),
            ErrorCode::QrExpired => (
                "二维码已过期,请扫描组织者手机上正在显示的二维码",
                "This code has expired; scan the one the organiser's phone shows now",
            ),
            ErrorCode::NotSignedUp => (
                "您没有此活动的报名名额(未报名或仍在候补),请联系组织者",
                "You have no place in this activity (not signed up, or still on the waitlist); ask the organiser",
            ),
            ErrorCode::NotCheckedIn => (
                "尚未签到,不能签退",
                "You have not checked in yet, so you cannot check out",
            ),
            ErrorCode::OutsideGeofence => (
                "定位显示您不在活动地点附近(或定位精度不足),请到现场后重试,或请组织者为您签到",
                "Your location is not near the activity's place (or too imprecise); try again on site or ask the organiser to check you in",
            ),
            ErrorCode::LocationRequired => (
                "此活动须在现场定位后签到,请允许获取位置后重试",
                "This activity needs your location to check in; allow location access and try again",
            ),
            ErrorCode::ActivityClosed => (
                "活动已结束或已取消",
                "The activity is over or cancelled",
            ),
            ErrorCode::NotCheckedOut => (
                "尚未签退,请先填写签退时间再确认",
                "Not checked out yet; enter the check-out time before confirming",
            ),
            ErrorCode::InvalidComment => (
                "评论内容须为1到1000个字",
                "A comment must be 1 to 1000 characters",
            ),
            ErrorCode::TopicNotOpen => (
                "该议题未开放讨论(待审核或已结束)",
                "This topic is not open for discussion (awaiting review or closed)",
            ),
            ErrorCode::CheckInNotOpen => (
                "签到尚未开始:活动开始前 1 小时起可以签到",
                "Check-in has not started: it opens an hour before the activity",
            ),
            ErrorCode::InvalidLocation => (
                "位置无效:纬度须在 -90 到 90 之间,经度须在 -180 到 180 之间",
                "Invalid location: latitude must be between -90 and 90, longitude between -180 and 180",
            ),
            ErrorCode::InvalidRadius => (
                "半径须为 5 到 500 米之间的整数",
                "The radius must be a whole number of metres from 5 to 500",
            ),
            ErrorCode::InvalidGeoJson => (
                "无法读取 GeoJSON:须为包含点要素(Point)且每个点有名称(name)的 FeatureCollection",
                "Cannot read the GeoJSON: it must be a FeatureCollection of Point features, each with a name",
            ),
            ErrorCode::PatrolUnderWay => ("已有一次巡逻在进行中,请先结束它", "A patrol is already under way; end it first"),
            ErrorCode::NoPatrol => ("没有进行中的巡逻,或该巡逻已结束", "No patrol under way, or it has ended"),
            ErrorCode::InvalidDevice => ("设备号须为 6 到 64 位字母、数字或 - _ . :", "A device id must be 6–64 letters, digits or - _ . :"),
            ErrorCode::DeviceTaken => ("该设备号已被登记", "That device id is already registered"),
            ErrorCode::CheckpointInUse => ("该点位已有签到记录,不能删除", "This checkpoint has check-ins and cannot be removed"),
            ErrorCode::InvalidCategory => ("请选择事件类别", "Please choose a category"),
            ErrorCode::IncidentState => ("事件当前的状态不能进行此操作,请刷新后查看", "The incident is not in a state that allows this; reload to see where it stands"),
            ErrorCode::InvalidRating => ("请选择 1 到 5 星的评价", "Please give a rating from 1 to 5 stars"),
            ErrorCode::InvalidPhoto => ("照片须为 JPEG、PNG 或 WebP 图片,每张不超过 10 MB", "Photos must be JPEG, PNG or WebP images of at most 10 MB each"),
            ErrorCode::TooManyPhotos => ("最多上传 9 张照片", "At most 9 photos"),
            ErrorCode::PlaceRequired => ("请获取当前位置,或填写事件地点", "Please capture your position or type where it is"),
            ErrorCode::InvalidContactNumber => (
                "电话号码只能有数字、空格和“-”,如 0571-8888 1234 或 12345",
                "A phone number has digits, spaces and “-” only, e.g. 0571-8888 1234 or 12345",
            ),
            ErrorCode::InvalidName => (
                "称呼请填 1 到 30 个字,例如“陈静”或“陈阿姨”",
                "Please give a name of 1 to 30 characters, e.g. “Chen Jing”",
            ),
            ErrorCode::NoBillChosen => (
                "还没有选账单:请先勾选要缴的账单,再点缴费",
                "No bill is ticked: tick the bills you want to pay, then tap Pay",
            ),
            ErrorCode::BillsOfOneCommunity => (
                "一次只能缴同一个社区的账单,请分开缴",
                "One payment can only cover one community's bills; please pay them separately",
            ),
            ErrorCode::PlanTooShort => (
                "时段太短:结束时间须比开始时间晚至少 10 分钟",
                "The window is too short: the end must be at least 10 minutes after the start",
            ),
            ErrorCode::InvalidPlan => (
                "巡逻计划无效:请至少选择一天,时段须为 HH:MM 且结束晚于开始至少 10 分钟,生效日期须为 YYYY-MM-DD 且截止不早于生效",
                "Invalid plan: choose at least one day, times as HH:MM with the end at least 10 minutes after the start, dates as YYYY-MM-DD with the last day not before the first",
            ),
            ErrorCode::InvalidDateRange => (
                "统计期间无效:日期须为 YYYY-MM-DD,开始不晚于结束,最长 366 天",
                "Invalid period: dates as YYYY-MM-DD, the start not after the end, at most 366 days",
            ),
            ErrorCode::InvalidOutline => (
                "无法读取网格边界:须为 GeoJSON 面(Polygon,或含一个面的 Feature),至少 3 个不同的点,经纬度为 WGS-84",
                "Cannot read the grid outline: it must be a GeoJSON Polygon (or a Feature holding one) of at least 3 distinct WGS-84 points",
            ),
            ErrorCode::CrossSite => (
                "该请求来自其他网站,已被拒绝。请回到本站页面重新操作",
                "This request came from another site and was refused; go back to our page and try again",
            ),
            ErrorCode::TooLarge => (
                "提交的内容过大:请缩小照片或文件,或分批提交",
                "What you sent is too large: make the photo or file smaller, or send it in parts",
            ),
            ErrorCode::Unavailable => (
                "服务暂时不可用,请稍后重试;您填写的内容已保留,未完成的操作不会生效",
                "The service is briefly unavailable; please try again in a moment (what you entered is kept, and nothing half-done took effect)",
            ),
            ErrorCode::ExtensionPending => ("已有一个延期申请在等待审批", "An extension request is already waiting for a decision"),
            ErrorCode::Internal => ("系统繁忙,请稍后再试", "Something went wrong on our side; please try again"),
        };
        if english {
            en
        } else {
            zh
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for ErrorCode {}

impl std::str::FromStr for ErrorCode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::parse(s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
            // the JSON form (and the OpenAPI enum derived from it) is the same name
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::from(c.as_str()));
            assert!(!c.message(false).is_empty() && !c.message(true).is_empty());
        }
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
