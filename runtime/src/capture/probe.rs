//! Autoref specialisation: the macro calls these methods on `&&&&Capture(&value)` and the
//! compiler picks the most specific rule the value's type satisfies, without adding any
//! bound to the user's types:
//!
//! | receiver the impl is for | rule |
//! |---|---|
//! | `&&&Capture<T>` where `T: OwnCapture` (HTTP requests and header maps: safe headers only; an LLM client's request or response: JSON and the generation's attributes) | the type's own |
//! | `&&Capture<T>` where `T: Serialize` | JSON |
//! | `&Capture<T>` where `T: Debug` | Debug text |
//! | `Capture<T>` | the type name |
//!
//! The same trick splits a `Result` into its `Ok` value and its error
//! ([`SplitResult`]), and finds the richest way to describe an error ([`ErrorProbe`]) or to
//! turn a `fields(...)` value into an attribute ([`FieldProbe`]).

use std::error::Error;
use std::fmt::{Debug, Display};

use opentelemetry::Value;
use serde::Serialize;

use super::sink::ValueSink;
use crate::error_chain::ErrorReport;

/// A borrowed value to capture.
#[doc(hidden)]
pub struct Capture<'a, T: ?Sized>(pub &'a T);

/// A type that says itself how it is captured, chosen before `Serialize` and `Debug`:
/// HTTP requests and header maps (safe headers only), an LLM client's request and response
/// (their JSON, and the generation's attributes through [`ValueSink::attributes`]).
#[doc(hidden)]
pub trait OwnCapture {
    fn capture_with<S: ValueSink>(&self, sink: &mut S);
}

#[doc(hidden)]
pub trait CaptureOwn {
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S);
}

impl<T: OwnCapture + ?Sized> CaptureOwn for &&&Capture<'_, T> {
    #[inline]
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S) {
        self.0.capture_with(sink)
    }
}

#[doc(hidden)]
pub trait CaptureSerialize {
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S);
}

impl<T: Serialize + ?Sized> CaptureSerialize for &&Capture<'_, T> {
    #[inline]
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S) {
        sink.serialize(self.0)
    }
}

#[doc(hidden)]
pub trait CaptureDebug {
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S);
}

impl<T: Debug + ?Sized> CaptureDebug for &Capture<'_, T> {
    #[inline]
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S) {
        sink.debug(self.0)
    }
}

#[doc(hidden)]
pub trait CaptureTypeName {
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S);
}

impl<T: ?Sized> CaptureTypeName for Capture<'_, T> {
    #[inline]
    fn __traced_capture<S: ValueSink>(&self, sink: &mut S) {
        sink.type_name(std::any::type_name::<T>())
    }
}

/// A return value, looked at to see whether it is a `Result`.
#[doc(hidden)]
pub struct ResultProbe<'a, T: ?Sized>(pub &'a T);

/// An uninhabited type: the `Ok` and `Err` of a value that is no `Result`.
#[doc(hidden)]
pub enum NotAResult {}

impl Debug for NotAResult {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

/// A return value split into what is recorded as output and what as an error: the
/// output is the whole value, or the `Ok` of a `Result`. One arm for both keeps the
/// generated code (and its type checking) to a single capture per function.
#[doc(hidden)]
pub enum Split<'a, O: ?Sized, E: ?Sized> {
    /// The output.
    Output(&'a O),
    /// `Err(error)`: the span failed.
    Err(&'a E),
}

#[doc(hidden)]
pub trait SplitResult {
    type Output: ?Sized;
    type Err: ?Sized;
    fn __traced_split(&self) -> Split<'_, Self::Output, Self::Err>;
}

impl<'a, T, E> SplitResult for &ResultProbe<'a, Result<T, E>> {
    type Output = T;
    type Err = E;
    #[inline]
    fn __traced_split(&self) -> Split<'_, T, E> {
        match self.0 {
            Ok(value) => Split::Output(value),
            Err(error) => Split::Err(error),
        }
    }
}

impl<'a, T: ?Sized> SplitResult for ResultProbe<'a, T> {
    type Output = T;
    type Err = NotAResult;
    #[inline]
    fn __traced_split(&self) -> Split<'_, T, NotAResult> {
        Split::Output(self.0)
    }
}

/// An error value, described by the richest means its type offers.
#[doc(hidden)]
pub struct ErrorProbe<'a, T: ?Sized>(pub &'a T);

macro_rules! error_rule {
    ($trait:ident, $refs:ty, [$($bound:tt)*], |$e:ident| $report:expr) => {
        #[doc(hidden)]
        pub trait $trait {
            fn __traced_error(&self) -> ErrorReport;
        }
        impl<T: ?Sized + $($bound)*> $trait for $refs {
            fn __traced_error(&self) -> ErrorReport {
                let $e = self.0;
                $report
            }
        }
    };
}

#[doc(hidden)]
pub trait ErrorStd {
    fn __traced_error(&self) -> ErrorReport;
}
impl<T: Error> ErrorStd for &&&&&ErrorProbe<'_, T> {
    fn __traced_error(&self) -> ErrorReport {
        ErrorReport::from_error(std::any::type_name::<T>(), self.0)
    }
}
error_rule!(
    ErrorAsRefSendSync,
    &&&&ErrorProbe<'_, T>,
    [AsRef<dyn Error + Send + Sync + 'static>],
    |e| ErrorReport::from_error(std::any::type_name::<T>(), e.as_ref())
);
error_rule!(
    ErrorAsRef,
    &&&ErrorProbe<'_, T>,
    [AsRef<dyn Error + 'static>],
    |e| ErrorReport::from_error(std::any::type_name::<T>(), e.as_ref())
);
error_rule!(ErrorDisplay, &&ErrorProbe<'_, T>, [Display], |e| {
    ErrorReport::from_text_of(std::any::type_name::<T>(), "Display", || e.to_string())
});
error_rule!(ErrorDebug, &ErrorProbe<'_, T>, [Debug], |e| {
    ErrorReport::from_text_of(std::any::type_name::<T>(), "Debug", || format!("{e:?}"))
});

#[doc(hidden)]
pub trait ErrorTypeName {
    fn __traced_error(&self) -> ErrorReport;
}

impl<T: ?Sized> ErrorTypeName for ErrorProbe<'_, T> {
    fn __traced_error(&self) -> ErrorReport {
        let name = std::any::type_name::<T>();
        ErrorReport::from_text(name, name.to_owned())
    }
}

/// A `fields(key = value)` value, turned into an attribute value.
#[doc(hidden)]
pub struct FieldProbe<'a, T: ?Sized>(pub &'a T);

/// Values that are OpenTelemetry attribute values of their own type (numbers, booleans,
/// text), so `fields(tokens = n)` records an integer, not the text `"3"`.
pub trait AttributeValue {
    /// The attribute value.
    ///
    /// ```
    /// use traced::AttributeValue;
    /// assert_eq!(3u8.to_attribute_value(), opentelemetry::Value::I64(3));
    /// assert_eq!("hi".to_attribute_value(), opentelemetry::Value::from("hi".to_owned()));
    /// ```
    fn to_attribute_value(&self) -> Value;
}

macro_rules! int_attribute {
    ($($t:ty),*) => {$(
        impl AttributeValue for $t {
            fn to_attribute_value(&self) -> Value {
                match i64::try_from(*self) {
                    Ok(v) => Value::I64(v),
                    Err(_) => Value::from(self.to_string()),
                }
            }
        }
    )*};
}
int_attribute!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);

impl AttributeValue for f32 {
    fn to_attribute_value(&self) -> Value {
        Value::F64(f64::from(*self))
    }
}
impl AttributeValue for f64 {
    fn to_attribute_value(&self) -> Value {
        Value::F64(*self)
    }
}
impl AttributeValue for bool {
    fn to_attribute_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl AttributeValue for str {
    fn to_attribute_value(&self) -> Value {
        Value::from(self.to_owned())
    }
}
impl AttributeValue for String {
    fn to_attribute_value(&self) -> Value {
        Value::from(self.clone())
    }
}
impl AttributeValue for std::borrow::Cow<'_, str> {
    fn to_attribute_value(&self) -> Value {
        Value::from(self.to_string())
    }
}
impl<T: AttributeValue + ?Sized> AttributeValue for &T {
    fn to_attribute_value(&self) -> Value {
        (**self).to_attribute_value()
    }
}

#[doc(hidden)]
pub trait FieldNative {
    fn __traced_field(&self) -> Value;
}
impl<T: AttributeValue + ?Sized> FieldNative for &&&FieldProbe<'_, T> {
    fn __traced_field(&self) -> Value {
        self.0.to_attribute_value()
    }
}

#[doc(hidden)]
pub trait FieldSerialize {
    fn __traced_field(&self) -> Value;
}
impl<T: Serialize + ?Sized> FieldSerialize for &&FieldProbe<'_, T> {
    fn __traced_field(&self) -> Value {
        let mut out = super::OutputValue::default();
        out.serialize(self.0);
        Value::from(
            out.value
                .map(|(text, _)| text.into_string())
                .unwrap_or_default(),
        )
    }
}

#[doc(hidden)]
pub trait FieldDebug {
    fn __traced_field(&self) -> Value;
}
impl<T: Debug + ?Sized> FieldDebug for &FieldProbe<'_, T> {
    fn __traced_field(&self) -> Value {
        let mut out = super::OutputValue::default();
        out.debug(self.0);
        Value::from(
            out.value
                .map(|(text, _)| text.into_string())
                .unwrap_or_default(),
        )
    }
}

#[doc(hidden)]
pub trait FieldTypeName {
    fn __traced_field(&self) -> Value;
}
impl<T: ?Sized> FieldTypeName for FieldProbe<'_, T> {
    fn __traced_field(&self) -> Value {
        Value::from(format!("<{}>", std::any::type_name::<T>()))
    }
}
