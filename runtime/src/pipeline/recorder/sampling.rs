//! The sampling decision. The two samplers nearly everyone runs (`always_on` and the
//! default `parentbased_always_on`) are decided here inline, exactly as the SDK's
//! [`Sampler`] decides them; every other sampler is the SDK's own.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt as _, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample as _};

use crate::pipeline::SamplerConfig;

/// A sampler, with the common ones decided without the SDK's general path.
#[derive(Debug)]
pub(super) enum Sampling {
    AlwaysOn,
    /// `ParentBased(AlwaysOn)`: a child follows its parent's sampled flag (local or
    /// remote), a root is sampled.
    ParentBasedAlwaysOn,
    Sdk(Sampler),
}

/// What the sampler decided, and the trace state the span carries.
pub(super) struct Decision {
    pub(super) decision: SamplingDecision,
    pub(super) attributes: Vec<KeyValue>,
    pub(super) trace_state: TraceState,
}

impl Sampling {
    pub(super) fn new(config: &SamplerConfig) -> Self {
        match config {
            SamplerConfig::AlwaysOn => Self::AlwaysOn,
            SamplerConfig::ParentBased(root) if **root == SamplerConfig::AlwaysOn => {
                Self::ParentBasedAlwaysOn
            }
            other => Self::Sdk(sdk_sampler(other)),
        }
    }

    /// (Inline: the span path's common samplers are decided in a few instructions.)
    #[inline]
    pub(super) fn decide(
        &self,
        parent_cx: &Context,
        trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> Decision {
        let sampled = match self {
            Self::AlwaysOn => true,
            Self::ParentBasedAlwaysOn => {
                !parent_cx.has_active_span() || parent_cx.span().span_context().is_sampled()
            }
            Self::Sdk(sampler) => {
                let result =
                    sampler.should_sample(Some(parent_cx), trace_id, name, kind, attributes, links);
                return Decision {
                    decision: result.decision,
                    attributes: result.attributes,
                    trace_state: result.trace_state,
                };
            }
        };
        Decision {
            decision: if sampled {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            // What the SDK's AlwaysOn/AlwaysOff give: the parent's trace state.
            trace_state: parent_cx.span().span_context().trace_state().clone(),
        }
    }
}

/// The SDK sampler for a configuration.
pub(super) fn sdk_sampler(config: &SamplerConfig) -> Sampler {
    match config {
        SamplerConfig::AlwaysOn => Sampler::AlwaysOn,
        SamplerConfig::AlwaysOff => Sampler::AlwaysOff,
        SamplerConfig::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(*ratio),
        SamplerConfig::ParentBased(inner) => Sampler::ParentBased(Box::new(sdk_sampler(inner))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags};

    fn parent(sampled: bool, remote: bool) -> Context {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let state = TraceState::from_key_value([("vendor", "x")]).unwrap_or_default();
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7),
            SpanId::from(9),
            flags,
            remote,
            state,
        ))
    }

    /// The inline decisions are the SDK's, for roots and every kind of parent.
    #[test]
    fn inline_decisions_match_the_sdk_sampler() {
        let contexts = [
            Context::new(),
            parent(true, true),
            parent(false, true),
            parent(true, false),
            parent(false, false),
        ];
        for config in [
            SamplerConfig::AlwaysOn,
            SamplerConfig::ParentBased(Box::new(SamplerConfig::AlwaysOn)),
        ] {
            let ours = Sampling::new(&config);
            assert!(!matches!(ours, Sampling::Sdk(_)));
            let sdk = sdk_sampler(&config);
            for cx in &contexts {
                let mine = ours.decide(cx, TraceId::from(7), "n", &SpanKind::Internal, &[], &[]);
                let theirs = sdk.should_sample(
                    Some(cx),
                    TraceId::from(7),
                    "n",
                    &SpanKind::Internal,
                    &[],
                    &[],
                );
                assert_eq!(mine.decision, theirs.decision, "{config:?}");
                assert_eq!(mine.trace_state, theirs.trace_state, "{config:?}");
                assert_eq!(mine.attributes, theirs.attributes, "{config:?}");
            }
        }
    }
}
