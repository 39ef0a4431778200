//! The CRM's email templates: a subject, a plain-text part and an HTML part each, with `{{name}}`
//! placeholders filled by the email crate's renderer ([`switchboard::email::Template`]), which
//! HTML-escapes values in the HTML part (a customer called `<script>` stays text) and refuses a
//! placeholder without a value, naming it. No template engine is needed for transactional mail.
//!
//! | template | fields |
//! |---|---|
//! | `user_registration` | `name`, `login`, `url` |
//! | `password_reset` | `name`, `url`, `expires_in` |
//! | `application_assigned` | `name`, `application_id`, `pickup`, `dropoff`, `driver` |
//! | `status_changed` | `name`, `application_id`, `status` |
//! | `payment_notification` | `name`, `application_id`, `amount`, `payment_id` |
//! | `weekly_report` | `name`, `week`, `applications`, `done`, `revenue` |

use switchboard::email::Template;

/// One template's three parts.
struct Parts {
    name: &'static str,
    subject: &'static str,
    text: &'static str,
    html: &'static str,
}

const TEMPLATES: &[Parts] = &[
    Parts {
        name: "user_registration",
        subject: "Welcome to the CRM, {{name}}",
        text: "Hello {{name}},\n\nyour account {{login}} is ready. Sign in at {{url}}.\n",
        html: "<p>Hello {{name}},</p><p>your account <b>{{login}}</b> is ready. \
               <a href=\"{{url}}\">Sign in</a>.</p>",
    },
    Parts {
        name: "password_reset",
        subject: "Resetting your password",
        text: "Hello {{name}},\n\nset a new password at {{url}} within {{expires_in}}. \
               If you did not ask for this, ignore this email.\n",
        html: "<p>Hello {{name}},</p><p><a href=\"{{url}}\">Set a new password</a> within {{expires_in}}.</p>\
               <p>If you did not ask for this, ignore this email.</p>",
    },
    Parts {
        name: "application_assigned",
        subject: "Application {{application_id}}: driver assigned",
        text: "Hello {{name}},\n\napplication {{application_id}} ({{pickup}} to {{dropoff}}) \
               is assigned to {{driver}}.\n",
        html: "<p>Hello {{name}},</p><p>application <b>{{application_id}}</b> ({{pickup}} to {{dropoff}}) \
               is assigned to <b>{{driver}}</b>.</p>",
    },
    Parts {
        name: "status_changed",
        subject: "Application {{application_id}} is now {{status}}",
        text: "Hello {{name}},\n\napplication {{application_id}} is now {{status}}.\n",
        html: "<p>Hello {{name}},</p><p>application <b>{{application_id}}</b> is now <b>{{status}}</b>.</p>",
    },
    Parts {
        name: "payment_notification",
        subject: "Payment for application {{application_id}} received",
        text: "Hello {{name}},\n\nwe received {{amount}} for application {{application_id}} \
               (payment {{payment_id}}). Thank you!\n",
        html: "<p>Hello {{name}},</p><p>we received <b>{{amount}}</b> for application \
               <b>{{application_id}}</b> (payment {{payment_id}}). Thank you!</p>",
    },
    Parts {
        name: "weekly_report",
        subject: "Weekly report, {{week}}",
        text: "Hello {{name}},\n\nweek {{week}}: {{applications}} applications, {{done}} done, \
               revenue {{revenue}}.\n",
        html: "<p>Hello {{name}},</p><table><tr><td>Week</td><td>{{week}}</td></tr>\
               <tr><td>Applications</td><td>{{applications}}</td></tr><tr><td>Done</td><td>{{done}}</td></tr>\
               <tr><td>Revenue</td><td>{{revenue}}</td></tr></table>",
    },
];

/// The template called `name`.
pub fn template(name: &str) -> Option<Template> {
    TEMPLATES
        .iter()
        .find(|t| t.name == name)
        .map(|t| Template::new(t.subject, t.text).with_html(t.html))
}

/// Every template's name, for the error that lists them.
pub fn names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.name).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn every_template_renders_all_three_parts_and_names_a_missing_field() {
        for name in names() {
            let t = template(name).unwrap();
            let e = t.render(&BTreeMap::new()).unwrap_err();
            assert!(e.to_string().contains("{{"), "{name}: {e}");
            let vars = [
                "name",
                "login",
                "url",
                "expires_in",
                "application_id",
                "pickup",
                "dropoff",
                "driver",
                "status",
                "amount",
                "payment_id",
                "week",
                "applications",
                "done",
                "revenue",
            ]
            .into_iter()
            .map(|k| (k.to_owned(), format!("<{k}>")))
            .collect();
            let r = t.render(&vars).unwrap();
            assert!(!r.subject.is_empty() && r.text.contains("<name>"), "{name}");
            assert!(r.html.unwrap().contains("&lt;name&gt;"), "{name}");
        }
    }
}
