//! Order images in GraphQL: the `OrderImage` type and the upload mutations (GraphQL multipart
//! request spec). Resolvers are thin: they hand the file to `images::upload`.
use async_graphql::{Context, ID, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use entities::{image_blob, order_image};

use crate::domain::ids::{self, Kind};
use crate::graphql::inputs::{CreateOrderInput, ImageOnlyOrderInput};
use crate::graphql::mutation::{OrderPayload, fetch, may_change};
use crate::graphql::types::Order;
use crate::graphql::{GqlResult, requester, state};
use crate::images::kind::ImageKind;
use crate::images::signing::Purpose;
use crate::images::upload::{self, Stored};
use crate::service::image_only;

/// A scanned image of an order, proof of service, attachment or terminating order.
pub struct OrderImage {
    pub image: order_image::Model,
    pub blob: image_blob::Model,
}

/// A scanned image of an order, proof of service, attachment or terminating order.
#[Object]
impl OrderImage {
    async fn id(&self) -> ID {
        ID(ids::encode(Kind::Image, self.image.id))
    }
    async fn kind(&self) -> async_graphql::Result<ImageKind> {
        ImageKind::from_db(&self.image.kind).gql()
    }
    /// From the file's content: `application/pdf`, `image/tiff`, `image/png` or `image/jpeg`.
    async fn content_type(&self) -> &str {
        &self.blob.content_type
    }
    async fn pages(&self) -> i32 {
        self.blob.pages
    }
    /// Bytes.
    async fn size(&self) -> i32 {
        i32::try_from(self.blob.size).unwrap_or(i32::MAX)
    }
    /// Lower-case hex SHA-256 of the content.
    async fn sha256(&self) -> &str {
        &self.blob.sha256
    }
    async fn uploaded_at(&self) -> DateTime<Utc> {
        self.image.uploaded_at
    }
    async fn uploaded_by(&self) -> &str {
        &self.image.uploaded_by
    }
    /// The file name the uploader sent, if any.
    async fn filename(&self) -> Option<&str> {
        self.image.filename.as_deref()
    }
    /// Short-lived signed link to the file (`GET`, supports `Range`), relative to this server.
    async fn url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let gid = ids::encode(Kind::Image, self.image.id);
        let who = requester(ctx);
        momentary(ctx);
        Ok(state(ctx)?.images.signer.link(
            Purpose::Download,
            &gid,
            &who.label(),
            &who.link_tokens(),
            Utc::now(),
        ))
    }
    /// Signed link to a PNG of the first page; null for PDFs.
    async fn preview_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if self.blob.preview_sha256.is_none() {
            return Ok(None);
        }
        let gid = ids::encode(Kind::Image, self.image.id);
        let who = requester(ctx);
        momentary(ctx);
        Ok(Some(state(ctx)?.images.signer.link(
            Purpose::Preview,
            &gid,
            &who.label(),
            &who.link_tokens(),
            Utc::now(),
        )))
    }
}

/// A signed link lives from the moment it is signed, so an answer holding one is not reused.
fn momentary(ctx: &Context<'_>) {
    if let Some(l) = crate::graphql::access::log(ctx) {
        l.momentary();
    }
}

/// Result of an image upload.
#[derive(SimpleObject)]
pub struct UploadOrderImagePayload {
    pub order: Order,
    pub image: OrderImage,
    /// The same content was already stored; nothing new was written to the store.
    pub deduplicated: bool,
}

async fn payload(
    ctx: &Context<'_>,
    stored: Stored,
) -> async_graphql::Result<UploadOrderImagePayload> {
    Ok(UploadOrderImagePayload {
        order: fetch(ctx, stored.image.order_id).await?,
        deduplicated: stored.deduplicated,
        image: OrderImage {
            image: stored.image,
            blob: stored.blob,
        },
    })
}

async fn received(ctx: &Context<'_>, file: &Upload) -> async_graphql::Result<upload::Received> {
    let value = file.value(ctx)?;
    let body = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(value.content));
    upload::receive(&state(ctx)?.images, body, Some(&value.filename))
        .await
        .gql()
}

#[derive(Default)]
pub struct ImageMutation;

#[Object]
impl ImageMutation {
    /// Adds a scanned image (PDF, TIFF, PNG or JPEG, by content) to an order. Send it as a
    /// GraphQL multipart request with a CSRF preflight header (`apollo-require-preflight`).
    async fn upload_order_image(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        file: Upload,
        #[graphql(default_with = "ImageKind::Order")] kind: ImageKind,
    ) -> async_graphql::Result<UploadOrderImagePayload> {
        let file = received(ctx, &file).await?;
        let s = state(ctx)?;
        let stored = upload::attach(&s.db, &s.images, &requester(ctx), &order_id, kind, file)
            .await
            .gql()?;
        payload(ctx, stored).await
    }

    /// For image-only courts: registers an order by its image and a minimal index record.
    /// The order is searchable by case number and names and marked `imageOnly` until
    /// `completeImageOnlyOrder` enters its data.
    async fn register_image_only_order(
        &self,
        ctx: &Context<'_>,
        input: ImageOnlyOrderInput,
        file: Upload,
        #[graphql(default_with = "ImageKind::Order")] kind: ImageKind,
    ) -> async_graphql::Result<UploadOrderImagePayload> {
        let file = received(ctx, &file).await?;
        let s = state(ctx)?;
        let record = input.into();
        let (_, stored) = upload::register(&s.db, &s.images, &requester(ctx), &record, kind, file)
            .await
            .gql()?;
        payload(ctx, stored).await
    }

    /// Data entry from the image of an image-only order: the same order gets the keyed data
    /// (input as for `createOrder`; court and case number must match) and loses its mark.
    async fn complete_image_only_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        input: CreateOrderInput,
    ) -> async_graphql::Result<OrderPayload> {
        may_change(ctx, &order_id).await?;
        let id = image_only::complete(&state(ctx)?.db, &order_id, &input.into())
            .await
            .gql()?;
        Ok(OrderPayload {
            order: fetch(ctx, id).await?,
        })
    }
}
