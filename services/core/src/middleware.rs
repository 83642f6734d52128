//! The tower plumbing the core's request middleware share (authentication in `auth`, RPC metrics in
//! `metrics`, the message-size status in `grpc/limits.rs`): each says only what it does with a request
//! ([`Middleware::call`]); being a layer and a service that is ready when the inner one is lives here once.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

/// The answer a middleware gives, boxed so each may build it differently.
pub(crate) type Answer<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

/// What one middleware does with a request: answer it itself, or pass it to `inner` (already ready) and
/// look at the answer.
pub(crate) trait Middleware<S, B>
where
    S: tower::Service<http::Request<B>>,
{
    /// Handles `request`.
    fn call(&self, inner: &mut S, request: http::Request<B>) -> Answer<S::Response, S::Error>;
}

/// The tower layer of the middleware `M`.
#[derive(Debug, Clone)]
pub(crate) struct MiddlewareLayer<M>(pub(crate) M);

impl<S, M: Clone> tower::Layer<S> for MiddlewareLayer<M> {
    type Service = WithMiddleware<S, M>;

    fn layer(&self, inner: S) -> Self::Service {
        WithMiddleware {
            inner,
            middleware: self.0.clone(),
        }
    }
}

/// The service `inner` behind the middleware `M`.
#[derive(Debug, Clone)]
pub(crate) struct WithMiddleware<S, M> {
    inner: S,
    middleware: M,
}

impl<S, B, M> tower::Service<http::Request<B>> for WithMiddleware<S, M>
where
    S: tower::Service<http::Request<B>>,
    M: Middleware<S, B>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answer<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.middleware.call(&mut self.inner, request)
    }
}
