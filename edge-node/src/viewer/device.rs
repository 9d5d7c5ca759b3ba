//! The viewer's device class from its User-Agent, as CloudFront's `CloudFront-Is-*-Viewer`
//! headers report it (several may be true: a tablet is also mobile).

/// Device flags for one User-Agent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub mobile: bool,
    pub tablet: bool,
    pub smart_tv: bool,
    pub desktop: bool,
    pub ios: bool,
    pub android: bool,
}

fn has(ua: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| ua.contains(n))
}

/// Classifies a User-Agent (case-sensitive tokens, as browsers send them).
pub fn classify(user_agent: &str) -> Device {
    let ua = user_agent;
    let ios = has(ua, &["iPhone", "iPad", "iPod"])
        || (ua.contains("like Mac OS X") && ua.contains("Mobile/"));
    let android = ua.contains("Android");
    let smart_tv = has(
        ua,
        &[
            "SmartTV", "SMART-TV", "Smart-TV", "HbbTV", "AppleTV", "GoogleTV", "Roku", "Tizen TV",
            "Web0S", "WebOS TV", "BRAVIA", "AFT", "CrKey", "NetCast",
        ],
    );
    let tablet = !smart_tv
        && (has(
            ua,
            &[
                "iPad", "Tablet", "Kindle", "Silk/", "PlayBook", "Nexus 7", "Nexus 10", "SM-T",
                "Tab ",
            ],
        ) || (android && !ua.contains("Mobile")));
    let mobile = !smart_tv
        && (tablet
            || has(
                ua,
                &[
                    "Mobi",
                    "iPhone",
                    "iPod",
                    "Windows Phone",
                    "BlackBerry",
                    "Opera Mini",
                    "IEMobile",
                ],
            )
            || (android && ua.contains("Mobile")));
    let desktop = !mobile && !smart_tv;
    Device {
        mobile,
        tablet,
        smart_tv,
        desktop,
        ios,
        android,
    }
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn common_user_agents() {
        let iphone = classify("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1");
        assert!(iphone.mobile && iphone.ios && !iphone.tablet && !iphone.desktop);
        let ipad = classify("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1");
        assert!(ipad.tablet && ipad.mobile && ipad.ios);
        let pixel = classify("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36");
        assert!(pixel.mobile && pixel.android && !pixel.tablet);
        let tab = classify("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36");
        assert!(tab.tablet && tab.android);
        let desktop = classify("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36");
        assert!(desktop.desktop && !desktop.mobile);
        let tv = classify("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0 TV Safari/537.36");
        assert!(tv.smart_tv && !tv.desktop && !tv.mobile);
        assert!(classify("curl/8.5.0").desktop);
    }
}
