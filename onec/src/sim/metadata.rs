//! The service document and the EDMX `$metadata`, generated from the schema.

use serde_json::{Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::schema::{Fields, Ty};
use super::state::State;

impl State {
    pub(super) fn service_document(&self, json: bool) -> ResponseTemplate {
        if !json {
            return ResponseTemplate::new(200).set_body_raw(
                "<service xmlns=\"http://www.w3.org/2007/app\"><workspace/></service>",
                "application/atomsvc+xml",
            );
        }
        let value: Vec<Value> = self.sets.keys().map(|n| json!({"name": n, "url": n})).collect();
        json_status(
            200,
            &json!({"odata.metadata": format!("{}/$metadata", self.odata_root()), "value": value}),
        )
    }

    pub(super) fn odata_root(&self) -> String {
        format!("{}/{}/odata/standard.odata", self.base_url, self.opts.publication)
    }

    pub(super) fn edmx(&self) -> String {
        let mut types = String::new();
        let mut sets = String::new();
        let mut entity_type = |name: &str, key: &[&str], fields: &Fields| {
            types.push_str(&format!("<EntityType Name=\"{name}\"><Key>"));
            for k in key {
                types.push_str(&format!("<PropertyRef Name=\"{k}\"/>"));
            }
            types.push_str("</Key>");
            for (f, t) in fields {
                types.push_str(&format!("<Property Name=\"{f}\" Type=\"{}\"/>", t.edm()));
            }
            types.push_str("</EntityType>");
            sets.push_str(&format!(
                "<EntitySet Name=\"{name}\" EntityType=\"StandardODATA.{name}\"/>"
            ));
        };
        for (name, s) in &self.sets {
            let key: &[&str] = if s.kind.has_ref_key() {
                &["Ref_Key"]
            } else {
                &["Recorder", "LineNumber"]
            };
            entity_type(name, key, &s.fields);
            for (section, cols) in &s.sections {
                let mut all = vec![("Ref_Key".to_owned(), Ty::Guid), ("LineNumber".to_owned(), Ty::Str)];
                all.extend(cols.iter().cloned());
                entity_type(&format!("{name}_{section}"), &["Ref_Key", "LineNumber"], &all);
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><edmx:Edmx xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\" Version=\"1.0\">\
             <edmx:DataServices xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" m:DataServiceVersion=\"3.0\">\
             <Schema xmlns=\"http://schemas.microsoft.com/ado/2009/11/edm\" Namespace=\"StandardODATA\">{types}\
             <EntityContainer Name=\"EnterpriseV8\" m:IsDefaultEntityContainer=\"true\">{sets}</EntityContainer></Schema>\
             </edmx:DataServices></edmx:Edmx>"
        )
    }
}
