// The REST API v1 (bosun-http(7)) with the session cookie.  Errors come
// back as ApiError with the daemon's own words; a 401 tells the app to
// show the login.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
// A share link's token: sent as a Bearer credential instead of the cookie.
let bearer = null;
export function setBearer(token) { bearer = token; }
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

export async function api(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {}};
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'unavailable', 'the daemon cannot be reached');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) throw failure(res, data, method, path);
  return data;
}

// The daemon's error body in words (and a 401 sends to the login).
function failure(res, data, method, path) {
  const err = data && data.error ? data.error : {};
  if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthorized();
  return new ApiError(res.status, err.code || 'http_' + res.status,
                      err.message || `${method} ${path}: HTTP ${res.status}`);
}

// Raw bytes both ways (a file's content): body a string or bytes, sent as
// application/octet-stream; -> {bytes: Uint8Array, headers}.
export async function apiBytes(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {}};
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/octet-stream';
    init.body = body;
  }
  let res, buf;
  try {
    res = await fetch(`/api/v1${path}`, init);
    buf = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new ApiError(0, 'unavailable', 'the daemon cannot be reached');
  }
  if (!res.ok) {
    let data = null;
    try { data = JSON.parse(new TextDecoder().decode(buf)); } catch (e) { data = null; }
    throw failure(res, data, method, path);
  }
  return {bytes: buf, headers: res.headers};
}
