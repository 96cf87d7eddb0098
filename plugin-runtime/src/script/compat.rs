//! Compatibility dates and flags, with workerd's names and semantics
//! (workerd's `compatibility-date.capnp`): each feature is on from its
//! enable date, or when its enable flag is given; its disable flag turns it
//! off. Some features are implied by others after a date (for example
//! `nodejs_compat_v2` by `nodejs_compat` from 2024-09-23).

use std::collections::BTreeMap;

/// One feature of workerd's `CompatibilityFlags`.
struct Feature {
    /// workerd's field name (camelCase): the key JS sees in `internals.compat`.
    field: &'static str,
    enable: &'static str,
    disable: Option<&'static str>,
    /// On for compatibility dates on or after this one.
    date: Option<&'static str>,
    /// On when any of these fields is on and the date is on or after this one.
    implied: Option<(&'static [&'static str], &'static str)>,
}

const fn f(
    field: &'static str,
    enable: &'static str,
    disable: Option<&'static str>,
    date: Option<&'static str>,
) -> Feature {
    Feature {
        field,
        enable,
        disable,
        date,
        implied: None,
    }
}

const fn imp(
    field: &'static str,
    enable: &'static str,
    disable: Option<&'static str>,
    by: &'static [&'static str],
    date: &'static str,
) -> Feature {
    Feature {
        field,
        enable,
        disable,
        date: None,
        implied: Some((by, date)),
    }
}

/// The date used when a worker configures none: the newest behaviour.
pub const DEFAULT_DATE: &str = "9999-12-31";

#[rustfmt::skip]
const FEATURES: &[Feature] = &[
    f("formDataParserSupportsFiles", "formdata_parser_supports_files", Some("formdata_parser_converts_files_to_strings"), Some("2021-11-03")),
    f("fetchRefusesUnknownProtocols", "fetch_refuses_unknown_protocols", Some("fetch_treats_unknown_protocols_as_http"), Some("2021-11-10")),
    f("esiIncludeIsVoidTag", "html_rewriter_treats_esi_include_as_void_tag", None, None),
    f("durableObjectFetchRequiresSchemeAuthority", "durable_object_fetch_requires_full_url", Some("durable_object_fetch_allows_relative_url"), Some("2021-11-10")),
    f("streamsByobReaderDetachesBuffer", "streams_byob_reader_detaches_buffer", Some("streams_byob_reader_does_not_detach_buffer"), Some("2021-11-10")),
    f("streamsJavaScriptControllers", "streams_enable_constructors", Some("streams_disable_constructors"), Some("2022-11-30")),
    f("jsgPropertyOnPrototypeTemplate", "workers_api_getters_setters_on_prototype", Some("workers_api_getters_setters_on_instance"), Some("2022-01-31")),
    f("minimalSubrequests", "minimal_subrequests", Some("no_minimal_subrequests"), Some("2022-04-05")),
    f("noCotsOnExternalFetch", "no_cots_on_external_fetch", Some("cots_on_external_fetch"), Some("2022-03-08")),
    f("specCompliantUrl", "url_standard", Some("url_original"), Some("2022-10-31")),
    f("globalNavigator", "global_navigator", Some("no_global_navigator"), Some("2022-03-21")),
    f("captureThrowsAsRejections", "capture_async_api_throws", Some("do_not_capture_async_api_throws"), Some("2022-10-31")),
    f("r2PublicBetaApi", "r2_public_beta_bindings", Some("r2_internal_beta_bindings"), Some("0000-00-00")),
    f("obsolete14", "durable_object_alarms", None, None),
    f("noSubstituteNull", "dont_substitute_null_on_type_error", Some("substitute_null_on_type_error"), Some("2022-06-01")),
    f("transformStreamJavaScriptControllers", "transformstream_enable_standard_constructor", Some("transformstream_disable_standard_constructor"), Some("2022-11-30")),
    f("r2ListHonorIncludeFields", "r2_list_honor_include", None, Some("2022-08-04")),
    f("exportCommonJsDefaultNamespace", "export_commonjs_default", Some("export_commonjs_namespace"), Some("2022-10-31")),
    f("obsolete19", "durable_object_rename", None, None),
    f("webSocketCompression", "web_socket_compression", Some("no_web_socket_compression"), Some("2023-08-15")),
    // workerd enables nodejs_compat by default from 2026-08-04 (found by
    // running workerd 2026-11-17 across compatibility dates).
    f("nodeJsCompat", "nodejs_compat", Some("no_nodejs_compat"), Some("2026-08-04")),
    f("obsolete22", "tcp_sockets_support", None, None),
    f("specCompliantResponseRedirect", "response_redirect_url_standard", Some("response_redirect_url_original"), Some("2023-03-14")),
    f("workerdExperimental", "experimental", None, None),
    f("durableObjectGetExisting", "durable_object_get_existing", None, None),
    f("httpHeadersGetSetCookie", "http_headers_getsetcookie", Some("no_http_headers_getsetcookie"), Some("2023-03-01")),
    f("dispatchExceptionTunneling", "dynamic_dispatch_tunnel_exceptions", Some("dynamic_dispatch_treat_exceptions_as_500"), Some("2023-03-01")),
    f("serviceBindingExtraHandlers", "service_binding_extra_handlers", None, None),
    f("noCfBotManagementDefault", "no_cf_botmanagement_default", Some("cf_botmanagement_default"), Some("2023-08-01")),
    f("urlSearchParamsDeleteHasValueArg", "urlsearchparams_delete_has_value_arg", Some("no_urlsearchparams_delete_has_value_arg"), Some("2023-07-01")),
    f("strictCompression", "strict_compression_checks", Some("no_strict_compression_checks"), Some("2023-08-01")),
    f("brotliContentEncoding", "brotli_content_encoding", Some("no_brotli_content_encoding"), Some("2024-04-29")),
    f("strictCrypto", "strict_crypto_checks", Some("no_strict_crypto_checks"), Some("2023-08-01")),
    f("rttiApi", "rtti_api", None, None),
    f("obsolete35", "webgpu", None, None),
    f("cryptoPreservePublicExponent", "crypto_preserve_public_exponent", Some("no_crypto_preserve_public_exponent"), Some("2023-12-01")),
    f("vectorizeQueryMetadataOptional", "vectorize_query_metadata_optional", Some("vectorize_query_original"), Some("2023-11-08")),
    f("unsafeModule", "unsafe_module", None, None),
    f("jsRpc", "js_rpc", None, None),
    f("noImportScripts", "no_global_importscripts", Some("global_importscripts"), Some("2024-03-04")),
    f("nodeJsAls", "nodejs_als", Some("no_nodejs_als"), None),
    f("queuesJsonMessages", "queues_json_messages", Some("no_queues_json_messages"), Some("2024-03-18")),
    f("pythonWorkers", "python_workers", None, None),
    f("fetcherNoGetPutDelete", "fetcher_no_get_put_delete", Some("fetcher_has_get_put_delete"), Some("2024-03-26")),
    f("unwrapCustomThenables", "unwrap_custom_thenables", Some("no_unwrap_custom_thenables"), Some("2024-04-01")),
    f("fetcherRpc", "rpc", Some("no_rpc"), Some("2024-04-03")),
    f("internalStreamByobReturn", "internal_stream_byob_return_view", Some("internal_stream_byob_return_undefined"), Some("2024-05-13")),
    f("blobStandardMimeType", "blob_standard_mime_type", Some("blob_legacy_mime_type"), Some("2024-06-03")),
    f("fetchStandardUrl", "fetch_standard_url", Some("fetch_legacy_url"), Some("2024-06-03")),
    imp("nodeJsCompatV2", "nodejs_compat_v2", Some("no_nodejs_compat_v2"), &["nodeJsCompat"], "2024-09-23"),
    f("globalFetchStrictlyPublic", "global_fetch_strictly_public", Some("global_fetch_private_origin"), None),
    f("newModuleRegistry", "new_module_registry", Some("legacy_module_registry"), None),
    f("cacheOptionEnabled", "cache_option_enabled", Some("cache_option_disabled"), Some("2024-11-11")),
    f("kvDirectBinding", "kv_direct_binding", None, None),
    f("allowCustomPorts", "allow_custom_ports", Some("ignore_custom_ports"), Some("2024-09-02")),
    f("increaseWebsocketMessageSize", "increase_websocket_message_size", None, None),
    f("internalWritableStreamAbortClearsQueue", "internal_writable_stream_abort_clears_queue", Some("internal_writable_stream_abort_does_not_clear_queue"), Some("2024-09-02")),
    f("pythonWorkersDevPyodide", "python_workers_development", None, None),
    imp("nodeJsZlib", "nodejs_zlib", Some("no_nodejs_zlib"), &["nodeJsCompat", "nodeJsCompatV2"], "2024-09-23"),
    f("replicaRouting", "replica_routing", None, None),
    f("obsolete61", "enable_d1_with_sessions_api", None, None),
    f("handleCrossRequestPromiseResolution", "handle_cross_request_promise_resolution", Some("no_handle_cross_request_promise_resolution"), Some("2024-10-14")),
    f("setToStringTag", "set_tostring_tag", Some("do_not_set_tostring_tag"), Some("2024-09-26")),
    f("upperCaseAllHttpMethods", "upper_case_all_http_methods", Some("no_upper_case_all_http_methods"), Some("2024-10-14")),
    f("obsolete66", "python_external_packages", None, None),
    f("noTopLevelAwaitInRequire", "disable_top_level_await_in_require", Some("enable_top_level_await_in_require"), Some("2024-12-02")),
    f("fixupTransformStreamBackpressure", "fixup-transform-stream-backpressure", Some("original-transform-stream-backpressure"), Some("2024-12-16")),
    f("tailWorkerUserSpans", "tail_worker_user_spans", None, None),
    imp("cacheNoCache", "cache_no_cache_enabled", Some("cache_no_cache_disabled"), &["cacheOptionEnabled"], "2025-08-07"),
    imp("pythonWorkers20250116", "python_workers_20250116", Some("no_python_workers_20250116"), &["pythonWorkers"], "2025-09-29"),
    f("requestCfOverridesCacheRules", "request_cf_overrides_cache_rules", Some("no_request_cf_overrides_cache_rules"), Some("2025-04-02")),
    f("memoryCacheDelete", "memory_cache_delete", None, None),
    f("obsolete74", "unique_ctx_per_invocation", None, Some("2025-03-10")),
    f("reuseCtxAcrossNonclassEvents", "nonclass_entrypoint_reuses_ctx_across_invocations", None, None),
    f("queueConsumerNoWaitForWaitUntil", "queue_consumer_no_wait_for_wait_until", Some("queue_consumer_wait_for_wait_until"), None),
    imp("populateProcessEnv", "nodejs_compat_populate_process_env", Some("nodejs_compat_do_not_populate_process_env"), &["nodeJsCompat"], "2025-04-01"),
    f("cacheApiRequestCfOverridesCacheRules", "cache_api_request_cf_overrides_cache_rules", Some("no_cache_api_request_cf_overrides_cache_rules"), Some("2025-05-19")),
    f("disableImportableEnv", "disallow_importable_env", Some("allow_importable_env"), None),
    f("assetsSecFetchModeNavigateHeaderPrefersAssetServing", "assets_navigation_prefers_asset_serving", Some("assets_navigation_has_no_effect"), Some("2025-04-01")),
    f("cacheApiCompatFlags", "cache_api_compat_flags", Some("no_cache_api_compat_flags"), Some("2025-04-19")),
    f("obsolete81", "python_workers_durable_objects", None, None),
    f("streamingTailWorker", "streaming_tail_worker", None, None),
    f("specCompliantUrlpattern", "urlpattern_standard", Some("urlpattern_original"), Some("2025-05-01")),
    f("jsWeakRef", "enable_weak_ref", Some("disable_weak_ref"), Some("2025-05-05")),
    f("requestSignalPassthrough", "request_signal_passthrough", Some("no_request_signal_passthrough"), None),
    f("enableNavigatorLanguage", "enable_navigator_language", Some("disable_navigator_language"), Some("2025-05-19")),
    f("webFileSystem", "enable_web_file_system", None, None),
    f("abortSignalRpc", "enable_abortsignal_rpc", None, None),
    f("allowEvalDuringStartup", "allow_eval_during_startup", Some("disallow_eval_during_startup"), Some("2025-06-01")),
    f("enableRequestSignal", "enable_request_signal", Some("disable_request_signal"), None),
    f("connectPassThrough", "connect_pass_through", None, None),
    f("bindAsyncLocalStorageSnapshot", "bind_asynclocalstorage_snapshot_to_request", Some("do_not_bind_asynclocalstorage_snapshot_to-request"), Some("2025-06-16")),
    f("throwOnUnrecognizedImportAssertion", "throw_on_unrecognized_import_assertion", Some("ignore_unrecognized_import_assertion"), Some("2025-06-16")),
    imp("pythonWorkflows", "python_workflows", Some("disable_python_workflows"), &["pythonWorkers"], "2025-09-20"),
    f("unsupportedProcessActualPlatform", "unsupported_process_actual_platform", None, None),
    imp("enableNodeJsProcessV2", "enable_nodejs_process_v2", Some("disable_nodejs_process_v2"), &["nodeJsCompat"], "2025-09-15"),
    f("setEventTargetThis", "set_event_target_this", Some("no_set_event_target_this"), Some("2025-08-01")),
    f("enableForwardableEmailFullHeaders", "set_forwardable_email_full_headers", Some("set_forwardable_email_single_headers"), Some("2025-08-01")),
    imp("enableNodejsHttpModules", "enable_nodejs_http_modules", Some("disable_nodejs_http_modules"), &["nodeJsCompat"], "2025-08-15"),
    f("pedanticWpt", "pedantic_wpt", Some("non_pedantic_wpt"), None),
    f("exposeGlobalMessageChannel", "expose_global_message_channel", Some("no_expose_global_message_channel"), Some("2025-08-15")),
    imp("enableNodejsHttpServerModules", "enable_nodejs_http_server_modules", Some("disable_nodejs_http_server_modules"), &["enableNodejsHttpModules"], "2025-09-01"),
    f("pythonNoGlobalHandlers", "python_no_global_handlers", Some("disable_python_no_global_handlers"), Some("2025-08-14")),
    imp("enableNodeJsFsModule", "enable_nodejs_fs_module", Some("disable_nodejs_fs_module"), &["nodeJsCompat"], "2025-09-15"),
    imp("enableNodeJsOsModule", "enable_nodejs_os_module", Some("disable_nodejs_os_module"), &["nodeJsCompat"], "2025-09-15"),
    f("pythonWorkersForceNewVendorPath", "python_workers_force_new_vendor_path", None, Some("2025-08-11")),
    imp("removeNodejsCompatEOL", "remove_nodejs_compat_eol", Some("add_nodejs_compat_eol"), &["nodeJsCompat"], "2025-09-01"),
    f("enableWorkflowScriptValidation", "enable_validate_workflow_entrypoint", Some("disable_validate_workflow_entrypoint"), Some("2025-09-20")),
    f("pythonDedicatedSnapshot", "python_dedicated_snapshot", Some("disable_python_dedicated_snapshot"), None),
    f("typescriptStripTypes", "typescript_strip_types", None, None),
    imp("enableNodeJsHttp2Module", "enable_nodejs_http2_module", Some("disable_nodejs_http2_module"), &["nodeJsCompat"], "2025-09-01"),
    f("experimentalAllowEvalAlways", "allow_insecure_inefficient_logged_eval", None, None),
    f("stripAuthorizationOnCrossOriginRedirect", "strip_authorization_on_cross_origin_redirect", Some("retain_authorization_on_cross_origin_redirect"), Some("2025-09-01")),
    f("enhancedErrorSerialization", "enhanced_error_serialization", Some("legacy_error_serialization"), None),
    f("emailSendingQueuing", "enable_email_sending_queuing", Some("disable_email_sending_queuing"), None),
    imp("removeNodejsCompatEOLv22", "remove_nodejs_compat_eol_v22", Some("add_nodejs_compat_eol_v22"), &["removeNodejsCompatEOL"], "2027-04-30"),
    imp("removeNodejsCompatEOLv23", "remove_nodejs_compat_eol_v23", Some("add_nodejs_compat_eol_v23"), &["removeNodejsCompatEOLv24"], "2025-09-01"),
    imp("removeNodejsCompatEOLv24", "remove_nodejs_compat_eol_v24", Some("add_nodejs_compat_eol_v24"), &["removeNodejsCompatEOL"], "2028-04-30"),
    imp("enableNodeJsConsoleModule", "enable_nodejs_console_module", Some("disable_nodejs_console_module"), &["nodeJsCompat"], "2025-09-21"),
    imp("enableNodeJsVmModule", "enable_nodejs_vm_module", Some("disable_nodejs_vm_module"), &["nodeJsCompat"], "2025-10-01"),
    f("enableNodeJsPerfHooksModule", "enable_nodejs_perf_hooks_module", Some("disable_nodejs_perf_hooks_module"), None),
    f("enableGlobalPerformanceClasses", "enable_global_performance_classes", Some("disable_global_performance_classes"), Some("2025-09-21")),
    f("enableNodeJsDomainModule", "enable_nodejs_domain_module", Some("disable_nodejs_domain_module"), None),
    f("enableNodeJsV8Module", "enable_nodejs_v8_module", Some("disable_nodejs_v8_module"), None),
    f("enableNodeJsTtyModule", "enable_nodejs_tty_module", Some("disable_nodejs_tty_module"), None),
    f("enableNodeJsPunycodeModule", "enable_nodejs_punycode_module", Some("disable_nodejs_punycode_module"), None),
    f("enableNodeJsClusterModule", "enable_nodejs_cluster_module", Some("disable_nodejs_cluster_module"), None),
    f("enableNodeJsChildProcessModule", "enable_nodejs_child_process_module", Some("disable_nodejs_child_process_module"), None),
    f("enableNodeJsWorkerThreadsModule", "enable_nodejs_worker_threads_module", Some("disable_nodejs_worker_threads_module"), None),
    f("enableNodeJsStreamWrapModule", "enable_nodejs_stream_wrap_module", Some("disable_nodejs_stream_wrap_module"), None),
    f("enableNodeJsWasiModule", "enable_nodejs_wasi_module", Some("disable_nodejs_wasi_module"), None),
    f("enableNodeJsDgramModule", "enable_nodejs_dgram_module", Some("disable_nodejs_dgram_module"), None),
    f("enableNodeJsInspectorModule", "enable_nodejs_inspector_module", Some("disable_nodejs_inspector_module"), None),
    f("enableNodeJsTraceEventsModule", "enable_nodejs_trace_events_module", Some("disable_nodejs_trace_events_module"), None),
    f("enableWorkerdDebugModule", "enable_workerd_debug_module", None, None),
    // A WebSocket's `binaryType` defaults to "blob" (binary messages arrive
    // as Blobs); before, always ArrayBuffers.
    f("websocketBinaryTypeDefault", "websocket_standard_binary_type", Some("no_websocket_standard_binary_type"), Some("2026-03-17")),
    // Node.js Timeout objects from the global setTimeout/setInterval (workerd
    // 2026-11-23 turns them on with the enable flag alone, too).
    imp("enableNodejsGlobalTimers", "enable_nodejs_global_timers", Some("no_nodejs_global_timers"), &["nodeJsCompat"], "2026-02-10"),
];

/// Why a worker's compatibility flags are not acceptable (workerd's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompatError {
    /// Not one of workerd's flag names.
    #[error("No such compatibility flag: {0}")]
    Unknown(String),
    /// The same flag given twice.
    #[error("Compatibility flag specified multiple times: {0}")]
    Repeated(String),
    /// A feature's enable and disable flags both given.
    #[error("Compatibility flags are mutually contradictory: {0} vs {1}")]
    Contradictory(String, String),
}

/// A worker's resolved features: workerd's field name -> on/off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatFlags {
    /// The compatibility date the features were resolved for.
    pub date: String,
    features: BTreeMap<&'static str, bool>,
}

impl CompatFlags {
    /// Resolves `flags` at `date` ([`DEFAULT_DATE`] when none). The first
    /// bad flag is reported with its index in `flags`.
    pub fn resolve(date: Option<&str>, flags: &[String]) -> Result<CompatFlags, (usize, CompatError)> {
        let date = date.unwrap_or(DEFAULT_DATE);
        let mut features: BTreeMap<&'static str, bool> = FEATURES
            .iter()
            .map(|ft| (ft.field, ft.date.is_some_and(|d| date >= d)))
            .collect();
        let mut explicit: BTreeMap<&'static str, (bool, &str)> = BTreeMap::new();
        for (i, flag) in flags.iter().enumerate() {
            if flags[..i].contains(flag) {
                return Err((i, CompatError::Repeated(flag.clone())));
            }
            let (feature, on) = FEATURES
                .iter()
                .find_map(|ft| {
                    if ft.enable == flag {
                        Some((ft, true))
                    } else if ft.disable == Some(flag.as_str()) {
                        Some((ft, false))
                    } else {
                        None
                    }
                })
                .ok_or_else(|| (i, CompatError::Unknown(flag.clone())))?;
            if let Some((_, other)) = explicit.get(feature.field) {
                return Err((i, CompatError::Contradictory(other.to_string(), flag.clone())));
            }
            explicit.insert(feature.field, (on, flag));
            features.insert(feature.field, on);
        }
        // Implications can chain (a -> b -> c): repeat until nothing changes.
        loop {
            let mut changed = false;
            for ft in FEATURES {
                let Some((by, since)) = ft.implied else { continue };
                if features[ft.field] || explicit.contains_key(ft.field) || date < since {
                    continue;
                }
                if by.iter().any(|b| features.get(b).copied().unwrap_or(false)) {
                    features.insert(ft.field, true);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Ok(CompatFlags {
            date: date.to_string(),
            features,
        })
    }

    /// Whether the feature named by workerd's field name is on.
    pub fn on(&self, field: &str) -> bool {
        self.features.get(field).copied().unwrap_or(false)
    }

    /// `{date, flags: {field: bool}}` for the bootstrap JS (`internals.compat`).
    pub(crate) fn to_json(&self) -> String {
        let flags: serde_json::Map<String, serde_json::Value> = self
            .features
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::Bool(*v)))
            .collect();
        serde_json::json!({ "date": self.date, "flags": flags }).to_string()
    }

    /// Whether any `node:` built-in module is available.
    pub(crate) fn node_modules(&self) -> bool {
        self.on("nodeJsCompat") || self.on("nodeJsCompatV2") || self.on("nodeJsAls")
    }
}

/// The built-in modules under `nodejs_compat`; `node:async_hooks` alone
/// under `nodejs_als`.
pub(crate) const NODE_MODULES: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "console",
    "events",
    "path",
    "process",
    "string_decoder",
    "timers",
    "timers/promises",
    "url",
    "util",
];

/// The canonical name (`node:buffer`) of the built-in module `specifier`
/// names for a worker with `compat`, if it names one.
pub(crate) fn builtin_module(compat: &CompatFlags, specifier: &str) -> Option<String> {
    let (name, prefixed) = match specifier.strip_prefix("node:") {
        Some(n) => (n, true),
        None => (specifier, false),
    };
    if !NODE_MODULES.contains(&name) {
        return None;
    }
    let full = compat.on("nodeJsCompat") || compat.on("nodeJsCompatV2");
    let available = full || (name == "async_hooks" && compat.on("nodeJsAls"));
    // Bare names ("buffer") only under nodejs_compat_v2.
    (available && (prefixed || compat.on("nodeJsCompatV2"))).then(|| format!("node:{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dates_flags_and_implications() {
        let c = CompatFlags::resolve(Some("2022-01-01"), &[]).unwrap();
        assert!(!c.on("globalNavigator") && c.on("formDataParserSupportsFiles"));
        let c = CompatFlags::resolve(Some("2022-01-01"), &flags(&["global_navigator"])).unwrap();
        assert!(c.on("globalNavigator"));
        let c = CompatFlags::resolve(Some("2024-01-01"), &flags(&["no_global_navigator"])).unwrap();
        assert!(!c.on("globalNavigator"));
        let c = CompatFlags::resolve(Some("2024-09-22"), &flags(&["nodejs_compat"])).unwrap();
        assert!(c.on("nodeJsCompat") && !c.on("nodeJsCompatV2"));
        let c = CompatFlags::resolve(Some("2024-09-23"), &flags(&["nodejs_compat"])).unwrap();
        assert!(c.on("nodeJsCompatV2") && !c.on("populateProcessEnv"));
        let c = CompatFlags::resolve(None, &flags(&["nodejs_compat"])).unwrap();
        assert!(c.on("populateProcessEnv") && c.on("enableNodeJsProcessV2"));
        let c = CompatFlags::resolve(None, &flags(&["nodejs_compat", "no_nodejs_compat_v2"])).unwrap();
        assert!(!c.on("nodeJsCompatV2"));
    }

    #[test]
    fn bad_flags_are_reported_with_their_index() {
        assert_eq!(
            CompatFlags::resolve(None, &flags(&["nodejs_compat", "nodejs_compt"])),
            Err((1, CompatError::Unknown("nodejs_compt".into())))
        );
        assert_eq!(
            CompatFlags::resolve(None, &flags(&["url_standard", "url_standard"]))
                .unwrap_err()
                .1,
            CompatError::Repeated("url_standard".into())
        );
        assert_eq!(
            CompatFlags::resolve(None, &flags(&["url_standard", "url_original"]))
                .unwrap_err()
                .1,
            CompatError::Contradictory("url_standard".into(), "url_original".into())
        );
    }

    #[test]
    fn builtin_modules_follow_the_flags() {
        let v1 = CompatFlags::resolve(Some("2024-01-01"), &flags(&["nodejs_compat"])).unwrap();
        assert_eq!(builtin_module(&v1, "node:buffer").as_deref(), Some("node:buffer"));
        assert_eq!(builtin_module(&v1, "buffer"), None);
        assert_eq!(builtin_module(&v1, "node:fs"), None);
        let v2 = CompatFlags::resolve(Some("2024-01-01"), &flags(&["nodejs_compat_v2"])).unwrap();
        assert_eq!(builtin_module(&v2, "events").as_deref(), Some("node:events"));
        let als = CompatFlags::resolve(Some("2024-01-01"), &flags(&["nodejs_als"])).unwrap();
        assert_eq!(
            builtin_module(&als, "node:async_hooks").as_deref(),
            Some("node:async_hooks")
        );
        assert_eq!(builtin_module(&als, "node:buffer"), None);
        let before = CompatFlags::resolve(Some("2026-08-03"), &[]).unwrap();
        assert_eq!(builtin_module(&before, "node:buffer"), None);
        // workerd turns nodejs_compat on by default from 2026-08-04 (and for
        // a worker without a date, which gets the newest behaviour).
        let from = CompatFlags::resolve(Some("2026-08-04"), &[]).unwrap();
        assert_eq!(builtin_module(&from, "node:buffer").as_deref(), Some("node:buffer"));
        let newest = CompatFlags::resolve(None, &[]).unwrap();
        assert_eq!(builtin_module(&newest, "buffer").as_deref(), Some("node:buffer"));
        let opted_out = CompatFlags::resolve(None, &flags(&["no_nodejs_compat"])).unwrap();
        assert_eq!(builtin_module(&opted_out, "node:buffer"), None);
    }

    #[test]
    fn node_global_timers_follow_nodejs_compat_from_2026_02_10() {
        let on = |date: &str, f: &[&str]| {
            CompatFlags::resolve(Some(date), &flags(f))
                .unwrap()
                .on("enableNodejsGlobalTimers")
        };
        assert!(!on("2026-02-09", &["nodejs_compat"]));
        assert!(on("2026-02-10", &["nodejs_compat"]));
        assert!(
            !on("2026-02-10", &[]),
            "nodejs_compat is not on by default before 2026-08-04"
        );
        assert!(on("2026-11-01", &[]), "nodejs_compat (default) implies it");
        assert!(!on("2026-11-01", &["no_nodejs_global_timers"]));
        assert!(!on("2026-11-01", &["no_nodejs_compat"]));
        assert!(on("2026-01-01", &["enable_nodejs_global_timers"]));
    }
}
