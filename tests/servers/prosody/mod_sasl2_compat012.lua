-- Polyfills so the Debian bookworm prosody-modules snapshot (hg 556bf57d6417, written against
-- Prosody trunk/0.13 APIs) can run mod_sasl2* on Prosody 0.12.
--   * net.server_epoll connections: ssl_info(), ssl_peerfinished(), ssl_exportkeyingmaterial()
--     (mod_sasl2 calls origin.conn:ssl_info() unconditionally on TLS streams; without it the
--      whole stream-features event dies and the client gets NO features after TLS)
--   * util.stanza: stanza:get_child_attr(name, xmlns, attr) (used by mod_sasl2_fast)
local st = require "util.stanza";
local stanza_mt = st.stanza_mt;
if not stanza_mt.get_child_attr then
	function stanza_mt:get_child_attr(name, xmlns, attr)
		local child = self:get_child(name, xmlns);
		if child then return child.attr[attr]; end
	end
	module:log("info", "polyfilled util.stanza get_child_attr");
end

local function patch_conn(conn)
	local mt = getmetatable(conn);
	local iface = mt and mt.__index;
	if type(iface) ~= "table" or iface.ssl_info then return end
	function iface:ssl_info()
		local sock = self:ssl() and self:socket();
		return sock and sock.info and sock:info();
	end
	function iface:ssl_peerfinished()
		local sock = self:ssl() and self:socket();
		return sock and sock.getpeerfinished and sock:getpeerfinished();
	end
	function iface:ssl_exportkeyingmaterial(label, len, context)
		local sock = self:ssl() and self:socket();
		if sock and sock.exportkeyingmaterial then
			return sock:exportkeyingmaterial(label, len, context);
		end
	end
	module:log("info", "polyfilled connection ssl_info/ssl_peerfinished/ssl_exportkeyingmaterial");
end

-- 0.12's mod_c2s fires "stream-features" without the stream header attributes (event.stream);
-- mod_sasl2_fast reads event.stream.from. Capture the client's 'from' via the stream_attrs hook
-- that util.xmppstream calls when the server opens its side of the stream.
local filters = require "util.filters";
local function capture_stream_from(session)
	if tostring(session.type):match("^c2s") and not session.stream_attrs then
		session.stream_attrs = function (sess, _from, to, _attr)
			sess.compat_stream_from = to; -- the client's 'from' is our reply's 'to'
		end
	end
end
filters.add_filter_hook(capture_stream_from);
function module.unload() filters.remove_filter_hook(capture_stream_from); end

-- Runs before mod_sasl2's stream-features handler (priority 1).
module:hook("stream-features", function (event)
	if event.origin.conn then patch_conn(event.origin.conn); end
	if event.stream == nil then
		event.stream = { from = event.origin.compat_stream_from };
	end
end, 1000);

-- 0.12's util.datetime.datetime(t) passes t straight to os.date("!%Y-%m-%dT%H:%M:%SZ", t); on
-- Lua 5.4 a non-integral float (mod_sasl2_fast passes now()+ttl) raises "number has no integer
-- representation". Floor it.
local dt = require "util.datetime";
if not dt.compat012_floored then
	local orig_datetime = dt.datetime;
	dt.datetime = function (t) return orig_datetime(t and math.floor(t)); end
	dt.compat012_floored = true;
end

-- util.stanza stanza:add_error(err) (trunk) is used by mod_sasl2_bind2/mod_sasl2_sm on failure paths.
if not stanza_mt.add_error then
	function stanza_mt:add_error(err)
		local e = type(err) == "table" and err or { condition = tostring(err) };
		self:tag("error", { type = e.type or "cancel" })
			:tag(e.condition or "undefined-condition", { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" }):up();
		if e.text then
			self:text_tag("text", e.text, { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" });
		end
		return self:up();
	end
	module:log("info", "polyfilled util.stanza add_error");
end

-- mod_sasl2_sm calls mod_smacks.do_enable()/do_resume() (trunk API: do the work, return a result
-- whose finish() is called after <success/> went out). 0.12's mod_smacks only has
-- handle_enable()/handle_resume(), which write <enabled/>/<resumed/> (and resent stanzas, <r/>)
-- straight to the connection. Adapter: run them with a bytes/out filter that captures the
-- output, turn the first element into the result, replay the rest in finish().
local errors = require "util.error";
local mod_smacks = module:depends("smacks");
local xmlns_sm3 = "urn:xmpp:sm:3";
local c2s_sessions = module:shared("/*/c2s/sessions");

local function captured(session, f)
	local out = {};
	local function capture(data) out[#out + 1] = data; return nil; end
	filters.add_filter(session, "bytes/out", capture, 1e9);
	local ok, ret = pcall(f);
	filters.remove_filter(session, "bytes/out", capture);
	if not ok then error(ret, 0); end
	return ret, out;
end

local function parse_failed(first)
	local cond = first:match("<([%w%-]+) xmlns='urn:ietf:params:xml:ns:xmpp%-stanzas'") or "undefined-condition";
	return errors.new({ type = "cancel", condition = cond }, { h = tonumber(first:match(" h='(%d+)'")) });
end

if rawget(mod_smacks, "do_enable") == nil then
	mod_smacks.do_enable = function (session, stanza)
		local _, out = captured(session, function ()
			return mod_smacks.handle_enable(session, stanza, xmlns_sm3);
		end);
		local first = table.remove(out, 1) or "";
		if not first:match("^<enabled") then
			return nil, parse_failed(first);
		end
		return {
			type = "enabled";
			id = first:match(" id='([^']*)'");
			resume_max = first:match(" max='([^']*)'");
			finish = function () for _, data in ipairs(out) do session.rawsend(data); end end;
		};
	end
	module:log("info", "polyfilled mod_smacks do_enable");
end

if rawget(mod_smacks, "do_resume") == nil then
	mod_smacks.do_resume = function (session, stanza)
		local conn = session.conn;
		local _, out = captured(session, function ()
			return mod_smacks.handle_resume(session, stanza, xmlns_sm3);
		end);
		local first = table.remove(out, 1) or "";
		if not first:match("^<resumed") then
			return nil, parse_failed(first);
		end
		local original = c2s_sessions[conn];
		return {
			type = "resumed";
			session = original;
			id = stanza.attr.previd;
			finish = function () for _, data in ipairs(out) do original.rawsend(data); end end;
		};
	end
	module:log("info", "polyfilled mod_smacks do_resume");
end
