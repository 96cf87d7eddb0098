//! `HTMLRewriter` on Cloudflare's lol_html, with handlers written in JS.
//!
//! lol_html calls its content handlers synchronously from inside
//! `HtmlRewriter::write`, but a Workers handler may return a promise that
//! the rewriting must wait for. Like workerd (which runs lol_html on a
//! fiber), each rewriter runs on its own stack: a [`corosensei`] coroutine.
//! When lol_html reaches a matched element (or text, comment, ...), the
//! coroutine suspends with an [`Output::Event`] and the op that resumed it
//! returns to JS, which runs the user's handler for as long as it likes
//! (awaiting promises on the isolate's ordinary event loop). Every method
//! the handler calls on the token resumes the coroutine with an
//! [`Input::Op`], applied to the live lol_html token, and the answer comes
//! back as [`Output::OpResult`]. When the handler is done JS resumes it with
//! [`Input::Done`] and lol_html carries on. V8 never runs on the coroutine's
//! stack: only lol_html does.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use lol_html::html_content::{Comment, ContentType, Doctype, DocumentEnd, Element, EndTag, TextChunk};
use lol_html::{
    AsciiCompatibleEncoding, DocumentContentHandlers, ElementContentHandlers, HandlerResult, HtmlRewriter,
    MemorySettings, Selector, Settings,
};

/// workerd's limits for a rewriter: its parsing buffer starts at 1 KiB and
/// may not grow past 3 MiB.
const PREALLOCATED_BUFFER: usize = 1024;
const MAX_MEMORY: usize = 3 * 1024 * 1024;
/// The coroutine's stack (reserved, touched only as lol_html uses it).
const STACK_SIZE: usize = 1024 * 1024;

/// Errors a rewriter reports to the script (as `TypeError`s).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum HtmlRewriterError {
    /// lol_html rejected the input, a selector or a mutation.
    #[error("Parser error: {0}")]
    Parser(String),
    /// No memory for the rewriter's stack.
    #[error("Parser error: cannot allocate the rewriter: {0}")]
    Stack(String),
    /// The encoding named by the response's charset cannot be rewritten.
    #[error("Parser error: Unsupported encoding: {0}")]
    Encoding(String),
    /// A handler failed (the script already holds its exception).
    #[error("The content handler failed.")]
    HandlerFailed,
    /// A token was used outside of its handler.
    #[error(
        "This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler."
    )]
    InvalidToken,
    /// The rewriter was used after it finished or failed.
    #[error("This HTMLRewriter has already finished.")]
    Finished,
    /// A method that does not exist on this kind of token.
    #[error("Illegal invocation")]
    BadOp,
}

/// The handler kinds, as the numbers JS receives in an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Element = 0,
    Comments = 1,
    Text = 2,
    Doctype = 3,
    End = 4,
    EndTag = 5,
}

/// Which handlers one `.on()` / `.onDocument()` registration has.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registration {
    /// `Some` for `.on(selector, ...)`, `None` for `.onDocument(...)`.
    pub selector: Option<String>,
    pub element: bool,
    pub comments: bool,
    pub text: bool,
    pub doctype: bool,
    pub end: bool,
}

/// Where content goes relative to a token.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place {
    Before,
    After,
    Prepend,
    Append,
    Replace,
    SetInnerContent,
}

/// A method a handler calls on its token.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    TagName,
    SetTagName(String),
    Attributes,
    GetAttribute(String),
    HasAttribute(String),
    SetAttribute(String, String),
    RemoveAttribute(String),
    NamespaceUri,
    SelfClosing,
    CanHaveContent,
    Removed,
    Insert(Place, String, bool),
    Remove,
    RemoveAndKeepContent,
    /// Registers end tag handler `id` (replacing any earlier one).
    OnEndTag(u32),
    Text,
    SetText(String),
    LastInTextNode,
    Name,
    SetName(String),
    PublicId,
    SystemId,
}

/// What an [`Op`] answers.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Unit,
    Bool(bool),
    Str(String),
    OptStr(Option<String>),
    Attrs(Vec<(String, String)>),
}

/// What the coroutine is resumed with.
pub(crate) enum Input {
    Chunk(Vec<u8>),
    End,
    Op(Op),
    /// The handler returned (and its promise, if any, fulfilled).
    Done,
    /// The handler threw, or the script gave up on the output: stop.
    Abort,
}

/// What the coroutine suspends with.
pub(crate) enum Output {
    /// Handler `handler` of kind `kind` must run now.
    Event(Kind, u32),
    OpResult(Result<Value, HtmlRewriterError>),
    /// The last chunk has been consumed; send the next.
    NeedInput,
}

type Y = Yielder<Input, Output>;
type Co = Coroutine<Input, Output, Result<(), HtmlRewriterError>>;

/// Where the coroutine stands, as far as JS may call into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a chunk (or the end).
    Idle,
    /// Suspended inside a handler: ops and `Done` are allowed.
    InHandler,
    /// Returned or failed: nothing more is allowed.
    Finished,
}

/// One `transform()` in progress.
pub(crate) struct Rewriter {
    co: Co,
    output: Rc<RefCell<Vec<u8>>>,
    phase: Phase,
    /// Its parser buffer and coroutine stack, charged at their maximum to
    /// the isolate's memory budget.
    charge: Option<crate::io::limits::Charge>,
}

/// Parses a selector the way `.on()` must before accepting it.
pub(crate) fn check_selector(selector: &str) -> Result<(), HtmlRewriterError> {
    selector
        .parse::<Selector>()
        .map(|_| ())
        .map_err(|e| HtmlRewriterError::Parser(e.to_string()))
}

/// What a resumption produced, for the op to hand to JS.
pub(crate) struct Step {
    /// Rewritten bytes produced since the last step.
    pub output: Vec<u8>,
    /// The handler to run next, if any.
    pub event: Option<(Kind, u32)>,
}

impl Rewriter {
    /// A rewriter for `registrations` (in `.on()`/`.onDocument()` order),
    /// reading `charset` (the response's, if it names one).
    pub(crate) fn new(registrations: Vec<Registration>, charset: Option<&str>) -> Result<Self, HtmlRewriterError> {
        let encoding = match charset {
            None => AsciiCompatibleEncoding::utf_8(),
            Some(label) => encoding_rs::Encoding::for_label(label.trim().as_bytes())
                .and_then(AsciiCompatibleEncoding::new)
                .ok_or_else(|| HtmlRewriterError::Encoding(label.to_string()))?,
        };
        let mut selectors = Vec::with_capacity(registrations.len());
        for r in &registrations {
            selectors.push(match &r.selector {
                Some(s) => Some(
                    s.parse::<Selector>()
                        .map_err(|e| HtmlRewriterError::Parser(e.to_string()))?,
                ),
                None => None,
            });
        }
        let output = Rc::new(RefCell::new(Vec::new()));
        let sink = output.clone();
        let stack = DefaultStack::new(STACK_SIZE).map_err(|e| HtmlRewriterError::Stack(e.to_string()))?;
        let co = Coroutine::with_stack(stack, move |y: &Y, first: Input| {
            run(y, first, registrations, selectors, encoding, sink)
        });
        Ok(Self {
            co,
            output,
            phase: Phase::Idle,
            charge: None,
        })
    }

    /// Rewrites the next chunk of input, up to its end or the first handler.
    pub(crate) fn write(&mut self, bytes: Vec<u8>) -> Result<Step, HtmlRewriterError> {
        self.expect(Phase::Idle)?;
        self.resume(Input::Chunk(bytes))
    }

    /// Ends the input, running handlers up to the document's end.
    pub(crate) fn end(&mut self) -> Result<Step, HtmlRewriterError> {
        self.expect(Phase::Idle)?;
        self.resume(Input::End)
    }

    /// The current handler finished: carry on to the next.
    pub(crate) fn handler_done(&mut self) -> Result<Step, HtmlRewriterError> {
        self.expect(Phase::InHandler)?;
        self.resume(Input::Done)
    }

    /// Applies a token method inside the running handler.
    pub(crate) fn op(&mut self, op: Op) -> Result<Value, HtmlRewriterError> {
        if self.phase != Phase::InHandler {
            return Err(HtmlRewriterError::InvalidToken);
        }
        match self.co.resume(Input::Op(op)) {
            CoroutineResult::Yield(Output::OpResult(r)) => r,
            // Not reachable: a handler answers every op. Stop rather than guess.
            CoroutineResult::Yield(_) => {
                self.abort();
                Err(HtmlRewriterError::Finished)
            }
            CoroutineResult::Return(r) => {
                self.phase = Phase::Finished;
                r.and(Err(HtmlRewriterError::Finished))
            }
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    fn expect(&self, phase: Phase) -> Result<(), HtmlRewriterError> {
        if self.phase == phase {
            Ok(())
        } else if self.phase == Phase::Finished {
            Err(HtmlRewriterError::Finished)
        } else {
            Err(HtmlRewriterError::BadOp)
        }
    }

    fn resume(&mut self, input: Input) -> Result<Step, HtmlRewriterError> {
        let res = self.co.resume(input);
        let output = std::mem::take(&mut *self.output.borrow_mut());
        match res {
            CoroutineResult::Yield(Output::Event(kind, handler)) => {
                self.phase = Phase::InHandler;
                Ok(Step {
                    output,
                    event: Some((kind, handler)),
                })
            }
            CoroutineResult::Yield(Output::NeedInput) => {
                self.phase = Phase::Idle;
                Ok(Step { output, event: None })
            }
            CoroutineResult::Yield(Output::OpResult(_)) => {
                self.abort();
                Err(HtmlRewriterError::Finished)
            }
            CoroutineResult::Return(r) => {
                self.phase = Phase::Finished;
                r.map(|()| Step { output, event: None })
            }
        }
    }

    /// Runs the coroutine to its end, failing whatever handler is pending,
    /// so that its stack unwinds normally.
    fn abort(&mut self) {
        if self.co.started() {
            while !self.co.done() {
                if let CoroutineResult::Return(_) = self.co.resume(Input::Abort) {
                    break;
                }
            }
        }
        self.phase = Phase::Finished;
    }
}

impl Drop for Rewriter {
    fn drop(&mut self) {
        self.abort();
    }
}

fn rewriting_error(e: lol_html::errors::RewritingError) -> HtmlRewriterError {
    match e {
        lol_html::errors::RewritingError::ContentHandlerError(_) => HtmlRewriterError::HandlerFailed,
        other => HtmlRewriterError::Parser(other.to_string()),
    }
}

/// The coroutine's body: owns the lol_html rewriter and feeds it.
fn run(
    y: &Y,
    first: Input,
    registrations: Vec<Registration>,
    selectors: Vec<Option<Selector>>,
    encoding: AsciiCompatibleEncoding,
    sink: Rc<RefCell<Vec<u8>>>,
) -> Result<(), HtmlRewriterError> {
    let memory = MemorySettings::new()
        .with_preallocated_parsing_buffer_size(PREALLOCATED_BUFFER)
        .with_max_allowed_memory_usage(MAX_MEMORY);
    let mut settings = Settings::new().with_encoding(encoding).with_memory_settings(memory);
    for (i, (reg, selector)) in registrations.iter().zip(selectors).enumerate() {
        let i = i as u32;
        match selector {
            Some(selector) => {
                let mut h = ElementContentHandlers::default();
                if reg.element {
                    h = h.element(move |el: &mut Element<'_, '_>| serve(y, Kind::Element, i, Token::Element(el)));
                }
                if reg.comments {
                    h = h.comments(move |c: &mut Comment<'_>| serve(y, Kind::Comments, i, Token::Comment(c)));
                }
                if reg.text {
                    h = h.text(move |t: &mut TextChunk<'_>| serve(y, Kind::Text, i, Token::Text(t)));
                }
                settings = settings.append_element_content_handler((Cow::Owned(selector), h));
            }
            None => {
                let mut h = DocumentContentHandlers::default();
                if reg.doctype {
                    h = h.doctype(move |d: &mut Doctype<'_>| serve(y, Kind::Doctype, i, Token::Doctype(d)));
                }
                if reg.comments {
                    h = h.comments(move |c: &mut Comment<'_>| serve(y, Kind::Comments, i, Token::Comment(c)));
                }
                if reg.text {
                    h = h.text(move |t: &mut TextChunk<'_>| serve(y, Kind::Text, i, Token::Text(t)));
                }
                if reg.end {
                    h = h.end(move |e: &mut DocumentEnd<'_>| serve(y, Kind::End, i, Token::End(e)));
                }
                settings = settings.append_document_content_handler(h);
            }
        }
    }
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| sink.borrow_mut().extend_from_slice(chunk));
    let mut input = first;
    loop {
        match input {
            Input::Chunk(bytes) => {
                rewriter.write(&bytes).map_err(rewriting_error)?;
                input = y.suspend(Output::NeedInput);
            }
            Input::End => return rewriter.end().map_err(rewriting_error),
            Input::Op(_) | Input::Done | Input::Abort => return Err(HtmlRewriterError::Finished),
        }
    }
}

/// The token a handler is looking at.
enum Token<'a, 'r, 't> {
    Element(&'a mut Element<'r, 't>),
    EndTag(&'a mut EndTag<'r>),
    Text(&'a mut TextChunk<'r>),
    Comment(&'a mut Comment<'r>),
    Doctype(&'a mut Doctype<'r>),
    End(&'a mut DocumentEnd<'r>),
}

/// Hands `token` to JS handler `handler` and applies its calls until it
/// is done.
fn serve(y: &Y, kind: Kind, handler: u32, mut token: Token<'_, '_, '_>) -> HandlerResult {
    let mut input = y.suspend(Output::Event(kind, handler));
    loop {
        input = match input {
            Input::Op(op) => {
                let result = apply(y, &mut token, op);
                y.suspend(Output::OpResult(result))
            }
            Input::Done => return Ok(()),
            Input::Chunk(_) | Input::End | Input::Abort => return Err(Box::new(HtmlRewriterError::HandlerFailed)),
        }
    }
}

fn content_type(html: bool) -> ContentType {
    if html { ContentType::Html } else { ContentType::Text }
}

fn parser_error(e: impl std::fmt::Display) -> HtmlRewriterError {
    HtmlRewriterError::Parser(e.to_string())
}

/// Applies one token method; `BadOp` when this kind of token has no such
/// method.
fn apply(y: &Y, token: &mut Token<'_, '_, '_>, op: Op) -> Result<Value, HtmlRewriterError> {
    use Place::*;
    Ok(match (token, op) {
        (Token::Element(el), Op::TagName) => Value::Str(el.tag_name()),
        (Token::Element(el), Op::SetTagName(name)) => {
            el.set_tag_name(&name).map_err(parser_error)?;
            Value::Unit
        }
        (Token::Element(el), Op::Attributes) => {
            Value::Attrs(el.attributes().iter().map(|a| (a.name(), a.value())).collect())
        }
        (Token::Element(el), Op::GetAttribute(name)) => Value::OptStr(el.get_attribute(&name)),
        (Token::Element(el), Op::HasAttribute(name)) => Value::Bool(el.has_attribute(&name)),
        (Token::Element(el), Op::SetAttribute(name, value)) => {
            el.set_attribute(&name, &value).map_err(parser_error)?;
            Value::Unit
        }
        (Token::Element(el), Op::RemoveAttribute(name)) => {
            el.remove_attribute(&name);
            Value::Unit
        }
        (Token::Element(el), Op::NamespaceUri) => Value::Str(el.namespace_uri().to_string()),
        (Token::Element(el), Op::SelfClosing) => Value::Bool(el.is_self_closing()),
        (Token::Element(el), Op::CanHaveContent) => Value::Bool(el.can_have_content()),
        (Token::Element(el), Op::Removed) => Value::Bool(el.removed()),
        (Token::Element(el), Op::Insert(place, content, html)) => {
            let ct = content_type(html);
            match place {
                Before => el.before(&content, ct),
                After => el.after(&content, ct),
                Prepend => el.prepend(&content, ct),
                Append => el.append(&content, ct),
                Replace => el.replace(&content, ct),
                SetInnerContent => el.set_inner_content(&content, ct),
            }
            Value::Unit
        }
        (Token::Element(el), Op::Remove) => {
            el.remove();
            Value::Unit
        }
        (Token::Element(el), Op::RemoveAndKeepContent) => {
            el.remove_and_keep_content();
            Value::Unit
        }
        (Token::Element(el), Op::OnEndTag(id)) => {
            let tag = el.tag_name();
            let Some(handlers) = el.end_tag_handlers() else {
                return Err(HtmlRewriterError::Parser(format!("{tag} can't have content")));
            };
            let yp: *const Y = y;
            // workerd replaces any end tag handler registered before.
            handlers.clear();
            handlers.push(Box::new(move |end: &mut EndTag<'_>| {
                // SAFETY: `yp` points at the yielder of the coroutine running
                // `run`. End tag handlers are owned by the HtmlRewriter that
                // `run` keeps on that coroutine's stack and are only called
                // (or dropped) from inside `run`, so the yielder is alive
                // whenever this runs.
                let y = unsafe { &*yp };
                serve(y, Kind::EndTag, id, Token::EndTag(end))
            }));
            Value::Unit
        }
        (Token::EndTag(t), Op::Name) => Value::Str(t.name()),
        (Token::EndTag(t), Op::SetName(name)) => {
            t.set_name_str(name);
            Value::Unit
        }
        (Token::EndTag(t), Op::Insert(place @ (Before | After), content, html)) => {
            let ct = content_type(html);
            match place {
                Before => t.before(&content, ct),
                _ => t.after(&content, ct),
            }
            Value::Unit
        }
        (Token::EndTag(t), Op::Remove) => {
            t.remove();
            Value::Unit
        }
        (Token::Text(t), Op::Text) => Value::Str(t.as_str().to_string()),
        (Token::Text(t), Op::LastInTextNode) => Value::Bool(t.last_in_text_node()),
        (Token::Text(t), Op::Removed) => Value::Bool(t.removed()),
        (Token::Text(t), Op::Insert(place @ (Before | After | Replace), content, html)) => {
            let ct = content_type(html);
            match place {
                Before => t.before(&content, ct),
                After => t.after(&content, ct),
                _ => t.replace(&content, ct),
            }
            Value::Unit
        }
        (Token::Text(t), Op::Remove) => {
            t.remove();
            Value::Unit
        }
        (Token::Comment(c), Op::Text) => Value::Str(c.text()),
        (Token::Comment(c), Op::SetText(text)) => {
            c.set_text(&text).map_err(parser_error)?;
            Value::Unit
        }
        (Token::Comment(c), Op::Removed) => Value::Bool(c.removed()),
        (Token::Comment(c), Op::Insert(place @ (Before | After | Replace), content, html)) => {
            let ct = content_type(html);
            match place {
                Before => c.before(&content, ct),
                After => c.after(&content, ct),
                _ => c.replace(&content, ct),
            }
            Value::Unit
        }
        (Token::Comment(c), Op::Remove) => {
            c.remove();
            Value::Unit
        }
        (Token::Doctype(d), Op::Name) => Value::OptStr(d.name()),
        (Token::Doctype(d), Op::PublicId) => Value::OptStr(d.public_id()),
        (Token::Doctype(d), Op::SystemId) => Value::OptStr(d.system_id()),
        (Token::End(e), Op::Insert(Append, content, html)) => {
            e.append(&content, content_type(html));
            Value::Unit
        }
        _ => return Err(HtmlRewriterError::BadOp),
    })
}

impl Op {
    /// The op JS names `name`, with its arguments.
    pub(crate) fn parse(name: &str, a: String, b: String, html: bool) -> Option<Op> {
        let insert = |p| Some(Op::Insert(p, a.clone(), html));
        match name {
            "tagName" => Some(Op::TagName),
            "setTagName" => Some(Op::SetTagName(a)),
            "attributes" => Some(Op::Attributes),
            "getAttribute" => Some(Op::GetAttribute(a)),
            "hasAttribute" => Some(Op::HasAttribute(a)),
            "setAttribute" => Some(Op::SetAttribute(a, b)),
            "removeAttribute" => Some(Op::RemoveAttribute(a)),
            "namespaceURI" => Some(Op::NamespaceUri),
            "selfClosing" => Some(Op::SelfClosing),
            "canHaveContent" => Some(Op::CanHaveContent),
            "removed" => Some(Op::Removed),
            "before" => insert(Place::Before),
            "after" => insert(Place::After),
            "prepend" => insert(Place::Prepend),
            "append" => insert(Place::Append),
            "replace" => insert(Place::Replace),
            "setInnerContent" => insert(Place::SetInnerContent),
            "remove" => Some(Op::Remove),
            "removeAndKeepContent" => Some(Op::RemoveAndKeepContent),
            "text" => Some(Op::Text),
            "setText" => Some(Op::SetText(a)),
            "lastInTextNode" => Some(Op::LastInTextNode),
            "name" => Some(Op::Name),
            "setName" => Some(Op::SetName(a)),
            "publicId" => Some(Op::PublicId),
            "systemId" => Some(Op::SystemId),
            "onEndTag" => a.parse().ok().map(Op::OnEndTag),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Ops (installed in `ops::build`).

use crate::error::OpError;
use crate::jsg::ops::{bytes_arg, js_value, state, string_arg, throw, throw_type_error, u32_arg as u32_of, uint8array};

/// Most `.on()` / `.onDocument()` registrations one rewriter takes (each
/// one is a JS call, so this only stops a forged list).
const MAX_REGISTRATIONS: usize = 10_000;

/// `[output, kind, handler]`: the bytes produced (or null) and the handler
/// to run next (`kind` -1 when there is none).
fn step_to_js<'s>(scope: &mut v8::PinScope<'s, '_>, step: Step) -> v8::Local<'s, v8::Value> {
    let output: v8::Local<v8::Value> = if step.output.is_empty() {
        v8::null(scope).into()
    } else {
        uint8array(scope, step.output).into()
    };
    let (kind, handler) = match step.event {
        Some((kind, handler)) => (kind as i32, handler),
        None => (-1, 0),
    };
    let kind = v8::Integer::new(scope, kind).into();
    let handler = v8::Integer::new_from_unsigned(scope, handler).into();
    v8::Array::new_with_elements(scope, &[output, kind, handler]).into()
}

/// Runs `f` on rewriter `id`, taken out of the isolate state so that no
/// borrow of it is held while lol_html runs; drops it once finished.
fn with_rewriter<T>(
    scope: &mut v8::PinScope<'_, '_>,
    id: u32,
    f: impl FnOnce(&mut Rewriter) -> Result<T, HtmlRewriterError>,
) -> Result<T, HtmlRewriterError> {
    let st = state(scope);
    let Some(mut rw) = st.borrow_mut().html_rewriters.remove(&id) else {
        return Err(HtmlRewriterError::Finished);
    };
    let result = f(&mut rw);
    if rw.is_finished() {
        drop(rw);
    } else {
        st.borrow_mut().html_rewriters.insert(id, rw);
    }
    result
}

/// `htmlSelectorCheck(selector)`: throws a TypeError for a selector
/// lol_html does not support.
pub(crate) fn op_html_selector_check(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let selector = match string_arg(scope, args.get(0), "selector") {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    if let Err(e) = check_selector(&selector) {
        throw_type_error(scope, &e.to_string());
    }
}

/// `htmlRewriterNew(registrations, charset)` -> id. Each registration is
/// `[selector | null, element, comments, text, doctype, end]`.
pub(crate) fn op_html_rewriter_new(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let Ok(list) = v8::Local::<v8::Array>::try_from(args.get(0)) else {
        return throw_type_error(scope, "registrations must be an array");
    };
    if list.length() as usize > MAX_REGISTRATIONS {
        return throw(scope, OpError::range_error("too many HTMLRewriter handlers"));
    }
    let mut registrations = Vec::with_capacity(list.length() as usize);
    for i in 0..list.length() {
        // A getter on the list may throw: that exception is the op's.
        let Some(item) = list.get_index(scope, i) else {
            return;
        };
        let Ok(item) = v8::Local::<v8::Array>::try_from(item) else {
            return throw_type_error(scope, "a registration must be an array");
        };
        let mut fields = [v8::undefined(scope).into(); 6];
        for (n, field) in fields.iter_mut().enumerate() {
            let Some(v) = item.get_index(scope, n as u32) else {
                return;
            };
            *field = v;
        }
        let selector = fields[0];
        let flags: Vec<bool> = fields[1..].iter().map(|f| f.is_true()).collect();
        let selector = if selector.is_null_or_undefined() {
            None
        } else {
            match string_arg(scope, selector, "selector") {
                Ok(s) => Some(s),
                Err(e) => return throw(scope, e),
            }
        };
        registrations.push(Registration {
            selector,
            element: flags[0],
            comments: flags[1],
            text: flags[2],
            doctype: flags[3],
            end: flags[4],
        });
    }
    let charset = args.get(1);
    let charset = if charset.is_null_or_undefined() {
        None
    } else {
        match string_arg(scope, charset, "charset") {
            Ok(s) => Some(s),
            Err(e) => return throw(scope, e),
        }
    };
    match Rewriter::new(registrations, charset.as_deref()) {
        Ok(mut rw) => {
            let st = state(scope);
            let id = {
                let mut s = st.borrow_mut();
                rw.charge = s.memory.charge(MAX_MEMORY + STACK_SIZE);
                if rw.charge.is_none() {
                    drop(s);
                    return throw_type_error(scope, "Array buffer allocation failed");
                }
                let id = s.next_id();
                s.html_rewriters.insert(id, rw);
                id
            };
            rv.set(v8::Integer::new_from_unsigned(scope, id).into());
        }
        Err(e) => throw_type_error(scope, &e.to_string()),
    }
}

fn answer_step(scope: &mut v8::PinScope<'_, '_>, rv: &mut v8::ReturnValue, result: Result<Step, HtmlRewriterError>) {
    match result {
        Ok(step) => {
            let v = step_to_js(scope, step);
            rv.set(v);
        }
        Err(e) => throw_type_error(scope, &e.to_string()),
    }
}

/// `htmlRewriterWrite(id, bytes)` -> step.
pub(crate) fn op_html_rewriter_write(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let id = u32_of(scope, args.get(0));
    let Some(bytes) = bytes_arg(args.get(1)) else {
        return throw_type_error(
            scope,
            "HTMLRewriter input chunks must be ArrayBuffer or ArrayBufferView",
        );
    };
    let result = with_rewriter(scope, id, |rw| rw.write(bytes));
    answer_step(scope, &mut rv, result);
}

/// `htmlRewriterEnd(id)` -> step: the input is over.
pub(crate) fn op_html_rewriter_end(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let id = u32_of(scope, args.get(0));
    let result = with_rewriter(scope, id, Rewriter::end);
    answer_step(scope, &mut rv, result);
}

/// `htmlRewriterDone(id)` -> step: the running handler has finished.
pub(crate) fn op_html_rewriter_done(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let id = u32_of(scope, args.get(0));
    let result = with_rewriter(scope, id, Rewriter::handler_done);
    answer_step(scope, &mut rv, result);
}

/// `htmlRewriterOp(id, name, a, b, html)` -> the method's value.
pub(crate) fn op_html_rewriter_op(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    mut rv: v8::ReturnValue,
) {
    let id = u32_of(scope, args.get(0));
    let strings = (|| -> Result<_, OpError> {
        Ok((
            string_arg(scope, args.get(1), "the method")?,
            string_arg(scope, args.get(2), "the first argument")?,
            string_arg(scope, args.get(3), "the second argument")?,
        ))
    })();
    let (name, a, b) = match strings {
        Ok(s) => s,
        Err(e) => return throw(scope, e),
    };
    let html = args.get(4).is_true();
    let Some(op) = Op::parse(&name, a, b, html) else {
        return throw_type_error(scope, &HtmlRewriterError::BadOp.to_string());
    };
    let result = with_rewriter(scope, id, |rw| rw.op(op));
    // Text and attributes come from the document the script feeds in:
    // past V8's longest string they are a RangeError.
    let value = match result {
        Ok(Value::Unit) => return,
        Ok(Value::Bool(b)) => return rv.set_bool(b),
        Ok(Value::OptStr(None)) => return rv.set_null(),
        Ok(Value::Str(s) | Value::OptStr(Some(s))) => js_value(scope, &s),
        Ok(Value::Attrs(attrs)) => (|| {
            let mut elems = Vec::with_capacity(attrs.len());
            for (n, v) in &attrs {
                let n = js_value(scope, n)?;
                let v = js_value(scope, v)?;
                elems.push(v8::Array::new_with_elements(scope, &[n, v]).into());
            }
            Ok(v8::Array::new_with_elements(scope, &elems).into())
        })(),
        Err(e) => return throw_type_error(scope, &e.to_string()),
    };
    match value {
        Ok(v) => rv.set(v),
        Err(e) => throw(scope, e),
    }
}

/// `htmlRewriterFree(id)`: abandons a rewriter (failing a pending handler).
pub(crate) fn op_html_rewriter_free(
    scope: &mut v8::PinScope,
    args: v8::FunctionCallbackArguments,
    _rv: v8::ReturnValue,
) {
    let id = u32_of(scope, args.get(0));
    let st = state(scope);
    let rw = st.borrow_mut().html_rewriters.remove(&id);
    drop(rw);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element_on(selector: &str) -> Registration {
        Registration {
            selector: Some(selector.to_string()),
            element: true,
            ..Registration::default()
        }
    }

    #[test]
    fn handlers_suspend_the_parser_and_ops_reach_the_live_token() {
        let mut rw = Rewriter::new(vec![element_on("a[href]")], None).unwrap();
        let step = rw.write(b"<p>x</p><a href=\"/one\">1</a><b>".to_vec()).unwrap();
        assert_eq!(String::from_utf8(step.output).unwrap(), "<p>x</p>");
        assert!(matches!(step.event, Some((Kind::Element, 0))));
        let Value::OptStr(Some(href)) = rw.op(Op::GetAttribute("href".into())).unwrap() else {
            panic!("href");
        };
        assert_eq!(href, "/one");
        rw.op(Op::SetAttribute("href".into(), "/two".into())).unwrap();
        assert!(matches!(
            rw.op(Op::SetAttribute("a b".into(), "x".into())),
            Err(HtmlRewriterError::Parser(_))
        ));
        assert!(matches!(rw.op(Op::Name), Err(HtmlRewriterError::BadOp)));
        let step = rw.handler_done().unwrap();
        assert!(step.event.is_none());
        assert!(matches!(rw.op(Op::TagName), Err(HtmlRewriterError::InvalidToken)));
        let mut out = String::from_utf8(step.output).unwrap();
        let step = rw.end().unwrap();
        out.push_str(&String::from_utf8(step.output).unwrap());
        assert_eq!(out, "<a href=\"/two\">1</a><b>");
        assert!(rw.is_finished());
        assert!(matches!(rw.write(Vec::new()), Err(HtmlRewriterError::Finished)));
    }

    #[test]
    fn end_tag_handlers_run_through_the_same_coroutine() {
        let mut rw = Rewriter::new(vec![element_on("div")], None).unwrap();
        let step = rw.write(b"<div>x</div>".to_vec()).unwrap();
        assert!(matches!(step.event, Some((Kind::Element, 0))));
        rw.op(Op::OnEndTag(7)).unwrap();
        let step = rw.handler_done().unwrap();
        assert!(matches!(step.event, Some((Kind::EndTag, 7))));
        rw.op(Op::Insert(Place::Before, "!".into(), false)).unwrap();
        let mut out = step.output;
        out.extend(rw.handler_done().unwrap().output);
        out.extend(rw.end().unwrap().output);
        assert_eq!(String::from_utf8(out).unwrap(), "<div>x!</div>");
    }

    #[test]
    fn dropping_a_rewriter_inside_a_handler_unwinds_it() {
        let mut rw = Rewriter::new(vec![element_on("p")], None).unwrap();
        assert!(rw.write(b"<p>".to_vec()).unwrap().event.is_some());
        drop(rw);
    }

    #[test]
    fn bad_selectors_and_encodings_are_errors() {
        assert!(check_selector("p:hover").is_err());
        assert!(check_selector("div > p.x[a^=b]:nth-child(2)").is_ok());
        assert!(matches!(
            Rewriter::new(vec![], Some("utf-16")),
            Err(HtmlRewriterError::Encoding(_))
        ));
        assert!(Rewriter::new(vec![], Some("windows-1252")).is_ok());
    }
}
