//! [`OneCClient`]: the standard OData interface of one 1C infobase, one method per operation.
//!
//! | operation | HTTP | retried on a temporary failure |
//! |---|---|---|
//! | [`OneCClient::list`], [`OneCClient::stream`], [`OneCClient::get`], [`OneCClient::count`], [`OneCClient::metadata`] | `GET` | yes (reads) |
//! | [`OneCClient::create`] | `POST Set` → 201 | only when nothing was sent; see [`crate::sync`] for reconciliation |
//! | [`OneCClient::update`], [`OneCClient::mark_for_deletion`] | `PATCH Set(key)` | yes (setting the same values twice is harmless) |
//! | [`OneCClient::post_document`], [`OneCClient::unpost_document`] | `POST Set(key)/Post`, `/Unpost` | yes (re-posting rewrites the same movements) |
//! | [`OneCClient::delete_physically`] | `DELETE Set(key)` | only when nothing was sent |
//!
//! Every request asks for JSON (`$format=json` and `Accept: application/json`), authenticates with
//! HTTP Basic as the configured infobase user, and goes through core's request pipeline
//! ([`OneCApi`]), which retries by the dispatch rules: a create is repeated only when the error proves
//! 1C never got it.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use switchboard_core::http::Reply;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dsn, Error, ErrorKind, Idempotence, Result};

use crate::api::{OneCApi, Surface};
use crate::config::OneCConfig;
use crate::entity::{EntityKey, EntitySet};
use crate::error::{ours, unexpected};
use crate::filter::Filter;
use crate::guid::Guid;
use crate::hs::HttpService;
use crate::query::{Query, encode_segment};

/// The header that switches a write into data-load mode.
pub const DATA_LOAD_MODE_HEADER: &str = "1C_OData_DataLoadMode";

/// How a document is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostingMode {
    /// `PostingModeOperational=false`: regular posting, valid for any date. The default, because
    /// operational posting refuses back-dated documents.
    #[default]
    Regular,
    /// `PostingModeOperational=true`: operational posting (checks current stock balances); only for
    /// documents dated today.
    Operational,
}

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The entities.
    pub items: Vec<T>,
    /// How many match in all (`odata.count`), when the query asked for it with [`Query::with_count`].
    pub count: Option<u64>,
}

/// A 1C OData client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct OneCClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: OneCConfig,
    /// The standard OData interface.
    odata: Pipeline<OneCApi>,
    /// HTTP services (their errors are read by status only).
    hs: Pipeline<OneCApi>,
    odata_root: String,
}

impl std::fmt::Debug for OneCClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneCClient")
            .field("odata_root", &self.inner.odata_root)
            .field("user", &self.inner.config.user)
            .finish_non_exhaustive()
    }
}

impl OneCClient {
    /// A client for this configuration.
    pub fn new(config: OneCConfig) -> Result<OneCClient> {
        let odata = Pipeline::new(
            OneCApi::new(&config, Surface::OData),
            &config.http,
            config.retry.clone(),
        )?;
        let hs = Pipeline::new(
            OneCApi::new(&config, Surface::HttpService),
            &config.http,
            config.retry.clone(),
        )?;
        let odata_root = config.odata_root();
        Ok(OneCClient {
            inner: Arc::new(Inner {
                config,
                odata,
                hs,
                odata_root,
            }),
        })
    }

    /// A client from an `onec://` DSN (see [`crate::config`]).
    pub fn from_dsn(dsn: &Dsn) -> Result<OneCClient> {
        OneCClient::new(OneCConfig::from_dsn(dsn)?)
    }

    /// A client from an `onec://` DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<OneCClient> {
        OneCClient::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The configuration.
    pub fn config(&self) -> &OneCConfig {
        &self.inner.config
    }

    /// The HTTP services published under `/hs/<root>` (customer-specific endpoints).
    pub fn http_service(&self, root: &str) -> HttpService {
        HttpService::new(self.clone(), root)
    }

    /// The EDMX document that describes every published entity set (`$metadata`). Also a cheap check
    /// that the publication, the user and the OData interface work.
    pub async fn metadata(&self) -> Result<String> {
        let url = format!("{}/$metadata", self.inner.odata_root);
        let reply = self.execute(Method::GET, &url, None, Idempotence::Idempotent).await?;
        Ok(reply.text())
    }

    /// One page of a set (`GET Set?$filter…`). For everything, page by page, use [`OneCClient::stream`].
    pub async fn list<T: DeserializeOwned>(&self, set: &EntitySet, query: &Query) -> Result<Page<T>> {
        set.validate()?;
        let url = format!(
            "{}/{}?{}",
            self.inner.odata_root,
            encode_segment(&set.full_name()),
            query.to_query_string()?
        );
        let reply = self.execute(Method::GET, &url, None, Idempotence::Idempotent).await?;
        decode_collection(&reply)
    }

    /// Every entity the query matches, fetched [`OneCConfig::page_size`] at a time with `$top`/`$skip`.
    ///
    /// The query's own `$top`/`$skip` bound the whole stream. Without an `$orderby`, reference objects
    /// are ordered by `Ref_Key` so that pages do not overlap or leave gaps. The stream ends after the
    /// first error.
    pub fn stream<T>(&self, set: &EntitySet, query: Query) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let query = if !query.is_ordered() && set.kind().has_ref_key() {
            query.order_by("Ref_Key")
        } else {
            query
        };
        let state = StreamState::<T> {
            client: self.clone(),
            set: set.clone(),
            skip: query.skip_value().unwrap_or(0),
            remaining: query.top_value(),
            query,
            buffer: VecDeque::new(),
            done: false,
        };
        stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buffer.pop_front() {
                    return Some((Ok(item), st));
                }
                if st.done {
                    return None;
                }
                let page_size = st.client.inner.config.page_size.max(1);
                let want = st.remaining.map_or(page_size, |r| r.min(page_size));
                if want == 0 {
                    return None;
                }
                let q = st.query.clone().top(want).skip(st.skip);
                match st.client.list::<T>(&st.set, &q).await {
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                    Ok(page) => {
                        let n = page.items.len() as u64;
                        st.skip += n;
                        if let Some(r) = st.remaining.as_mut() {
                            *r = r.saturating_sub(n);
                        }
                        if n < want || st.remaining == Some(0) {
                            st.done = true;
                        }
                        st.buffer.extend(page.items);
                    }
                }
            }
        })
        .boxed()
    }

    /// How many entities match (`$inlinecount=allpages`, one entity fetched).
    pub async fn count(&self, set: &EntitySet, filter: Option<Filter>) -> Result<u64> {
        let mut q = Query::new().top(1).with_count();
        if let Some(f) = filter {
            q = q.filter(f);
        }
        let page = self.list::<Value>(set, &q).await?;
        page.count.ok_or_else(|| {
            Error::decode("1C did not return odata.count for $inlinecount=allpages").with_provider(crate::SCHEME)
        })
    }

    /// One entity by key (`GET Set(guid'…')`); the query's `$select`/`$expand` apply. A missing entity
    /// is an [`ErrorKind::NotFound`] error; [`OneCClient::find`] makes it `None`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        set: &EntitySet,
        key: impl Into<EntityKey>,
        query: &Query,
    ) -> Result<T> {
        let url = self.entity_url(set, &key.into(), None)?;
        let url = format!("{url}?{}", query.to_query_string()?);
        let reply = self.execute(Method::GET, &url, None, Idempotence::Idempotent).await?;
        decode_entity(&reply)
    }

    /// One entity by key, or `None` when 1C has no such entity.
    pub async fn find<T: DeserializeOwned>(&self, set: &EntitySet, key: impl Into<EntityKey>) -> Result<Option<T>> {
        match self.get(set, key, &Query::new()).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates an entity (`POST Set` → 201) and returns it as 1C stored it (with `Ref_Key`, `Code` or
    /// `Number`, `DataVersion`).
    ///
    /// Not idempotent: 1C creates a new object for every `POST`, so a failure after the request may
    /// have reached 1C (a timeout, a dropped connection, a 500: [`Dispatch::MaybeSent`]) is returned,
    /// never retried; only a refusal before 1C acted (a refused connection, 503, 429) is repeated. Look
    /// the entity up by a stable key before trying again, as [`crate::sync::Syncer`] does. A 2xx whose
    /// body cannot be read is a `Decode` error with [`Dispatch::Sent`]: the object exists.
    ///
    /// Tabular-section rows go inside the body (`"Товары": [{"LineNumber": "1", …}]`); 1C refuses to
    /// create rows on their own set (error 13).
    ///
    /// [`Dispatch::MaybeSent`]: switchboard_core::Dispatch::MaybeSent
    /// [`Dispatch::Sent`]: switchboard_core::Dispatch::Sent
    pub async fn create<T: DeserializeOwned>(&self, set: &EntitySet, body: &impl Serialize) -> Result<T> {
        set.validate()?;
        let body = to_body(body)?;
        let url = format!(
            "{}/{}?$format=json",
            self.inner.odata_root,
            encode_segment(&set.full_name())
        );
        let reply = self
            .execute(Method::POST, &url, Some(body), Idempotence::NotIdempotent)
            .await?;
        if reply.status.as_u16() != 201 {
            tracing::debug!(status = reply.status.as_u16(), set = %set, "1C answered a create without 201");
        }
        decode_entity(&reply)
    }

    /// Changes the given fields of an entity (`PATCH Set(key)`) and returns it as stored. A tabular
    /// section in the body replaces the whole section.
    pub async fn update<T: DeserializeOwned>(
        &self,
        set: &EntitySet,
        key: impl Into<EntityKey>,
        patch: &impl Serialize,
    ) -> Result<T> {
        let body = to_body(patch)?;
        let url = format!("{}?$format=json", self.entity_url(set, &key.into(), None)?);
        let reply = self
            .execute(Method::PATCH, &url, Some(body), Idempotence::Idempotent)
            .await?;
        decode_entity(&reply)
    }

    /// Marks an object for deletion (`PATCH {"DeletionMark": true}`), the way integrations delete in
    /// 1C: the object stays, references to it stay valid, and 1C's own "delete marked objects" removes
    /// it after checking nothing uses it.
    pub async fn mark_for_deletion(&self, set: &EntitySet, key: Guid) -> Result<()> {
        self.update::<Value>(set, key, &serde_json::json!({"DeletionMark": true}))
            .await
            .map(drop)
    }

    /// Clears the deletion mark.
    pub async fn unmark_for_deletion(&self, set: &EntitySet, key: Guid) -> Result<()> {
        self.update::<Value>(set, key, &serde_json::json!({"DeletionMark": false}))
            .await
            .map(drop)
    }

    /// Deletes an entity physically (`DELETE`). 1C does not check references on this path, so other
    /// objects may be left pointing at nothing; prefer [`OneCClient::mark_for_deletion`].
    pub async fn delete_physically(&self, set: &EntitySet, key: impl Into<EntityKey>) -> Result<()> {
        let url = format!("{}?$format=json", self.entity_url(set, &key.into(), None)?);
        self.execute(Method::DELETE, &url, None, Idempotence::NotIdempotent)
            .await
            .map(drop)
    }

    /// Posts a document (`POST Document_X(guid'…')/Post?PostingModeOperational=…`).
    pub async fn post_document(&self, set: &EntitySet, key: Guid, mode: PostingMode) -> Result<()> {
        let operational = matches!(mode, PostingMode::Operational);
        let url = format!(
            "{}?PostingModeOperational={operational}&$format=json",
            self.entity_url(set, &EntityKey::Guid(key), Some("Post"))?
        );
        self.execute(Method::POST, &url, None, Idempotence::Idempotent)
            .await
            .map(drop)
    }

    /// Cancels a document's posting (`POST Document_X(guid'…')/Unpost`).
    pub async fn unpost_document(&self, set: &EntitySet, key: Guid) -> Result<()> {
        let url = format!(
            "{}?$format=json",
            self.entity_url(set, &EntityKey::Guid(key), Some("Unpost"))?
        );
        self.execute(Method::POST, &url, None, Idempotence::Idempotent)
            .await
            .map(drop)
    }

    fn entity_url(&self, set: &EntitySet, key: &EntityKey, action: Option<&str>) -> Result<String> {
        set.validate()?;
        let segment = format!("{}({})", set.full_name(), key.to_odata()?);
        let mut url = format!("{}/{}", self.inner.odata_root, encode_segment(&segment));
        if let Some(a) = action {
            url.push('/');
            url.push_str(a);
        }
        Ok(url)
    }

    /// Sends one request of the OData interface through its pipeline; an error answer becomes the
    /// mapped error.
    pub(crate) async fn execute(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        idempotence: Idempotence,
    ) -> Result<Reply> {
        self.send(&self.inner.odata, method, url, body, idempotence).await
    }

    /// Sends one request to an HTTP service through its pipeline; an error answer is read by status.
    pub(crate) async fn execute_service(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        idempotence: Idempotence,
    ) -> Result<Reply> {
        self.send(&self.inner.hs, method, url, body, idempotence).await
    }

    async fn send(
        &self,
        pipeline: &Pipeline<OneCApi>,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        idempotence: Idempotence,
    ) -> Result<Reply> {
        let body = body.map(bytes::Bytes::from);
        let data_load_mode = self.inner.config.data_load_mode;
        let reply = pipeline
            .reply(idempotence, |http| {
                let mut req = http
                    .request(method.clone(), url)
                    .header(http::header::ACCEPT, "application/json");
                if data_load_mode {
                    req = req.header(DATA_LOAD_MODE_HEADER, "true");
                }
                if let Some(b) = &body {
                    req = req
                        .header(http::header::CONTENT_TYPE, "application/json; charset=utf-8")
                        .body(b.clone());
                }
                req
            })
            .await?;
        tracing::debug!(%method, status = reply.status.as_u16(), "1C answered");
        Ok(reply)
    }
}

struct StreamState<T> {
    client: OneCClient,
    set: EntitySet,
    query: Query,
    skip: u64,
    remaining: Option<u64>,
    buffer: VecDeque<T>,
    done: bool,
}

/// Serialises a body, dropping what only 1C writes (`odata.*` annotations, `…@navigationLinkUrl`), so an
/// entity read from 1C can be sent back as it is.
fn to_body(body: &impl Serialize) -> Result<Vec<u8>> {
    let v = serde_json::to_value(body).map_err(|e| {
        Error::invalid_input(format!("the body cannot be serialised: {e}")).with_provider(crate::SCHEME)
    })?;
    let Value::Object(map) = v else {
        return Err(Error::invalid_input("a 1C entity body must be a JSON object").with_provider(crate::SCHEME));
    };
    let cleaned = Value::Object(strip_annotations(map));
    serde_json::to_vec(&cleaned)
        .map_err(|e| Error::invalid_input(format!("the body cannot be serialised: {e}")).with_provider(crate::SCHEME))
}

fn strip_annotations(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(k, _)| !k.starts_with("odata.") && !k.contains('@'))
        .map(|(k, v)| {
            let v = match v {
                Value::Array(rows) => Value::Array(
                    rows.into_iter()
                        .map(|r| match r {
                            Value::Object(m) => Value::Object(strip_annotations(m)),
                            other => other,
                        })
                        .collect(),
                ),
                other => other,
            };
            (k, v)
        })
        .collect()
}

/// Drops the `odata.*` annotations of an answer object so they do not land in a model's `extra`.
fn without_odata(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|k, _| !k.starts_with("odata."));
    }
    v
}

fn decode_entity<T: DeserializeOwned>(reply: &Reply) -> Result<T> {
    if reply.body.is_empty() {
        return Err(unexpected("with an empty body", reply));
    }
    let v: Value = reply.json().map_err(ours)?;
    if !v.is_object() {
        return Err(unexpected("with something that is not an entity", reply));
    }
    serde_json::from_value(without_odata(v)).map_err(|e| {
        Error::decode(format!("the entity does not have the expected shape: {e}"))
            .with_provider(crate::SCHEME)
            .with_http_status(reply.status.as_u16())
    })
}

fn decode_collection<T: DeserializeOwned>(reply: &Reply) -> Result<Page<T>> {
    let v: Value = reply.json().map_err(ours)?;
    let Value::Object(mut map) = v else {
        return Err(unexpected(
            "a collection request with something that is not a collection",
            reply,
        ));
    };
    // OData v3 writes odata.count as a string; accept a number too.
    let count = match map.get("odata.count") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            s.parse::<u64>()
                .map_err(|_| unexpected("with an odata.count that is not a number", reply))?,
        ),
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| unexpected("with an odata.count that is not a number", reply))?,
        ),
        Some(_) => return Err(unexpected("with an odata.count that is not a number", reply)),
    };
    let Some(Value::Array(values)) = map.remove("value") else {
        return Err(unexpected("a collection request without a \"value\" array", reply));
    };
    let mut items = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        items.push(serde_json::from_value(without_odata(v)).map_err(|e| {
            Error::decode(format!("entity {i} of the page does not have the expected shape: {e}"))
                .with_provider(crate::SCHEME)
                .with_http_status(reply.status.as_u16())
        })?);
    }
    Ok(Page { items, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_lose_annotations_only() {
        let body = serde_json::json!({
            "odata.metadata": "x",
            "Description": "A",
            "Контрагент@navigationLinkUrl": "y",
            "Товары": [{"LineNumber": "1", "Номенклатура@navigationLinkUrl": "z", "Цена": 1}]
        });
        let out: Value = serde_json::from_slice(&to_body(&body).unwrap()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"Description": "A", "Товары": [{"LineNumber": "1", "Цена": 1}]})
        );
        assert!(to_body(&serde_json::json!([1])).is_err());
    }
}
