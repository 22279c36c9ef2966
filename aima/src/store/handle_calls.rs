//! The calls async code makes most, as [`StoreHandle`] methods: each takes what it needs by
//! value (or clones it) and runs on the blocking pool like any [`StoreHandle::call`].

use super::{Change, StoreHandle};
use crate::domain::{Model, ModelId, Owner, Service, ServiceId, Status};
use crate::error::Result;

impl StoreHandle {
    pub(crate) async fn get_service(&self, id: &ServiceId) -> Result<Service> {
        let id = id.clone();
        self.call(move |s| s.get_service(&id)).await
    }

    pub(crate) async fn list_services(&self) -> Result<Vec<Service>> {
        self.call(|s| s.list_services()).await
    }

    pub(crate) async fn get_model(&self, id: &ModelId) -> Result<Model> {
        let id = id.clone();
        self.call(move |s| s.get_model(&id)).await
    }

    pub(crate) async fn delete_service(&self, id: &ServiceId) -> Result<Service> {
        let id = id.clone();
        self.call(move |s| s.delete_service(&id)).await
    }

    /// See [`super::Store::change_service`].
    pub(crate) async fn change_service(
        &self,
        id: &ServiceId,
        from: &[Status],
        change: Change,
    ) -> Result<Option<Service>> {
        let (id, from) = (id.clone(), from.to_vec());
        self.call(move |s| s.change_service(&id, &from, change))
            .await
    }

    /// See [`super::Store::change_observed`].
    pub(crate) async fn change_observed(
        &self,
        id: &ServiceId,
        from: &[Status],
        change: Change,
    ) -> Result<Option<Service>> {
        let (id, from) = (id.clone(), from.to_vec());
        self.call(move |s| s.change_observed(&id, &from, change))
            .await
    }

    /// See [`super::Store::change_claimed`].
    pub(crate) async fn change_claimed(
        &self,
        id: &ServiceId,
        claim: i64,
        change: Change,
    ) -> Result<Option<Service>> {
        let id = id.clone();
        self.call(move |s| s.change_claimed(&id, claim, change))
            .await
    }

    /// See [`super::Store::take_over`].
    pub(crate) async fn take_over(
        &self,
        id: &ServiceId,
        from: &[Status],
        change: Change,
    ) -> Result<(Option<Service>, Option<Owner>)> {
        let (id, from) = (id.clone(), from.to_vec());
        self.call(move |s| s.take_over(&id, &from, change)).await
    }

    pub(crate) async fn holds_claim(
        &self,
        id: &ServiceId,
        status: Status,
        claim: i64,
    ) -> Result<bool> {
        let id = id.clone();
        self.call(move |s| s.holds_claim(&id, status, claim)).await
    }

    pub(crate) async fn renew_lease(
        &self,
        id: &ServiceId,
        status: Status,
        owner: Owner,
        until: i64,
    ) -> Result<bool> {
        let id = id.clone();
        self.call(move |s| s.renew_lease(&id, status, &owner, until))
            .await
    }

    pub(crate) async fn yielded(&self, id: &ServiceId, claim: i64) -> Result<()> {
        let id = id.clone();
        self.call(move |s| s.yielded(&id, claim)).await
    }

    pub(crate) async fn is_yielding(&self, id: &ServiceId, claim: i64) -> Result<bool> {
        let id = id.clone();
        self.call(move |s| s.is_yielding(&id, claim)).await
    }
}
