// qunban web dashboard: a dependency-free single-page app.
//
// Conventions: every UI string goes through t(key); every DOM node is built
// with h()/svg() so server data only ever lands in text nodes or attributes
// (chat text is user input: never innerHTML). One small function per page.
'use strict';

// ---------------------------------------------------------------- i18n --

const I18N = {
  zh: {
    app_name: '群办', app_tagline: '聊天即项目管理',
    nav_projects: '项目', nav_groups: '群组', nav_connectors: '连接器', nav_outbox: '发件箱',
    nav_search: '搜索', nav_playground: '聊天演练', nav_menu: '菜单', lang_switch: 'EN', lang_switch_title: 'Switch to English',
    sign_out: '退出', sign_in: '登录', signed_out: '已退出登录',
    login: '账号', password: '密码', name: '姓名',
    login_title: '登录群办', login_failed: '登录失败',
    setup_title: '欢迎使用群办', setup_intro: '还没有任何账号。创建第一个管理员账号，或加载一个演示项目先看看。',
    setup_create: '创建管理员账号', setup_first_admin: '第一个管理员账号',
    demo_load: '加载演示项目', demo_intro: '一键创建一个带群组、成员和任务的示例项目，并以项目经理身份登录。',
    demo_loading: '正在加载演示项目…', demo_loaded: '演示项目已加载', demo_accounts: '演示账号', demo_accounts_hint: '可用这些账号登录体验不同角色（点击一行填入登录表单）。',
    dismiss: '关闭', or: '或',
    role: '角色', role_pm: '项目经理', role_lead: '组长', role_executor: '执行人', role_supervisor: '督导', role_viewer: '观察者', role_admin: '管理员',
    projects_title: '项目', projects_empty: '还没有项目。', health_good: '良好', health_at_risk: '有风险', health_off_track: '偏离', health_unknown: '未知',
    stat_open: '未完成', stat_overdue: '逾期', stat_on_time: '按时率', stat_total: '总数', stat_done: '已完成',
    tab_board: '看板', tab_gantt: '甘特图', tab_metrics: '指标', tab_workload: '工作量',
    status_todo: '待办', status_in_progress: '进行中', status_blocked: '阻塞', status_paused: '暂停', status_review: '待验收', status_done: '已完成', status_cancelled: '已取消',
    board_empty_col: '拖拽任务到这里', board_move_hint: '拖动卡片到其他列可更改状态', board_read_only: '你是此项目的观察者，只能查看', no_owner: '未指派', no_due: '无截止时间', overdue: '逾期',
    moved: '已更新', change_status: '更改状态',
    task_title: '任务', task_owners: '负责人', task_due: '截止时间', task_status: '状态', task_progress: '进度', task_priority: '优先级',
    task_project: '项目', task_created: '创建时间', task_updated: '更新时间', task_done_at: '完成时间', task_note: '备注',
    task_edit: '修改任务', save: '保存', saved: '已保存', no_changes: '没有改动',
    history: '变更历史', history_empty: '暂无变更记录', h_time: '时间', h_actor: '操作人', h_source: '来源', h_field: '字段', h_change: '变更',
    created_by_message: '创建此任务的消息', caused_by: '来自消息', back_to_board: '返回看板',
    field_status: '状态', field_progress: '进度', field_due: '截止时间', field_owners: '负责人', field_title: '标题', field_note: '备注', field_priority: '优先级', field_created: '创建',
    src_chat: '聊天', src_web: '网页', src_api: 'API', src_import: '导入', src_scheduler: '定时任务', src_replay: '重放', src_cli: '命令行',
    gantt_title: '甘特图', gantt_open: '在新窗口打开 SVG',
    metrics_title: '指标', m_on_time: '按时完成率', m_on_time_original: '按原定截止完成率', m_delay: '延期率', m_cycle_p50: '周期中位数', m_cycle_p90: '周期 P90',
    m_completed: '本期完成', m_overdue: '当前逾期', m_open: '未完成', m_moves: '截止时间调整', m_reopens: '重新打开', m_reassign: '转派',
    m_throughput: '每周完成数', m_throughput_member: '成员完成数', m_outcome: '完成情况', m_on_time_n: '按时', m_late_n: '延期', m_no_deadline_n: '无截止',
    m_workload: '当前工作量', m_burndown: '里程碑燃尽', m_goals: '目标进度', m_period: '统计区间', m_no_data: '暂无数据', m_hours: '小时', m_days: '天', m_avg_delay: '平均延期', m_remaining: '剩余', m_scope: '范围',
    workload_title: '工作量', w_member: '成员', w_open: '未完成', w_due_week: '本周到期', w_overdue: '逾期', w_done7: '近7天完成', w_blocked: '阻塞',
    groups_title: '群组', groups_empty: '还没有群组。', kind_master: '总控群', kind_subtask: '子任务群', kind_support: '支持群', kind_unbound: '未绑定',
    robot: '机器人', no_robot: '未配置机器人', reminders: '提醒规则', rule_on: '开', rule_off: '关', test_send: '测试发送', test_sent: '测试消息已加入发送队列',
    rule_morning: '早间提醒', rule_digest: '下午汇总', rule_weekly: '周报', rule_due_soon: '临近截止', rule_overdue: '逾期提醒', rule_milestone: '里程碑',
    hours_before: '提前 {h} 小时', hours_after: '逾期后 {h} 小时',
    connectors_title: '连接器', connectors_empty: '还没有连接器。可用命令 qunban connector add 添加。', callback_url: '回调地址', copy: '复制', copied: '已复制', copy_failed: '复制失败，请手动选择',
    outbox_title: '发件箱', ob_pending: '待发送', ob_sent: '已发送', ob_dead: '死信', ob_empty: '没有消息', requeue: '重新发送', requeued: '已重新排队',
    ob_attempts: '尝试次数', ob_error: '错误', ob_created: '创建于', ob_sent_at: '发送于', ob_group: '群组', ob_kind: '类型',
    search_title: '搜索', search_placeholder: '搜索任务、聊天记录和决策', search_go: '搜索', search_tasks: '任务', search_messages: '聊天消息', search_decisions: '决策', search_none: '没有找到结果', search_hint: '输入关键词开始搜索',
    pg_title: '聊天演练', pg_intro: '像在群里一样发消息，看机器人如何理解并更新项目。', pg_group: '群组', pg_member: '以成员身份发言', pg_send: '发送',
    pg_placeholder: '例如：@李四 明天下午3点前把测试报告写完 · #TASK-001 进度60% · #TASK-001 已完成',
    pg_examples: '试试：', pg_bot: '群办机器人', pg_no_reply: '（机器人没有回复）', pg_board: '项目看板', pg_no_project: '该群尚未绑定项目', pg_self_only: '只有管理员可以代替他人发言',
    pg_empty: '还没有消息，发第一条试试。', pg_created: '新建', pg_updated: '更新',
    loading: '加载中…', error: '出错了', retry: '重试', forbidden: '没有权限查看此页面', not_found: '找不到', err_network: '无法连接服务器',
    members: '成员', milestones: '里程碑', none: '无', yes: '是', no: '否',
    err_login: '登录名或密码错误', err_session: '登录已过期，请重新登录', err_forbidden: '没有权限', err_bad_request: '请求有误', err_invalid: '内容不符合要求',
    err_conflict: '操作与当前状态冲突', err_server: '服务器出错了，请稍后再试', err_busy: '请求太频繁，请稍后再试',
    nav_account: '我的账号', account_title: '我的账号', account_profile: '个人信息', account_admin: '工作区管理员', account_roles: '项目角色', account_no_roles: '还没有任何项目角色',
    tokens_title: 'API 令牌', tokens_intro: '脚本和其他工具可以用令牌调用 API：请求头写 Authorization: Bearer <令牌>。', tokens_empty: '还没有令牌。',
    token_name: '令牌名称', token_name_placeholder: '例如：日报脚本', token_create: '创建令牌', token_created: '令牌已创建',
    token_secret: '新令牌', token_secret_warning: '请立即复制并妥善保存：关闭或离开此页面后，这个令牌不会再显示。', token_done: '我已保存',
    token_revoke: '撤销', token_revoke_confirm: '确认撤销？', token_revoked: '令牌已撤销', token_created_at: '创建于',
    calendar_title: '日历订阅', calendar_intro: '日历应用订阅下面的链接即可看到你的截止时间。链接里的令牌只读、只能用于日历；重新生成后旧链接失效。', calendar_create: '生成订阅链接', calendar_rotate: '重新生成链接', calendar_revoke: '停用链接', calendar_none: '还没有订阅链接。', calendar_active: '订阅链接已启用，创建于',
    rules_read_only: '只有该项目的项目经理或组长可以修改提醒规则', rule_enabled: '启用', rule_time: '时间', rule_hours: '小时（逗号分隔）',
    rule_saved: '提醒规则已保存', rule_bad_hours: '请填写正整数小时数，用逗号分隔，例如 24, 2', rule_bad_time: '请填写时间，格式 HH:MM',
    next_title: '接下来的提醒', next_none: '未来 7 天没有提醒', next_more: '还有 {n} 条', next_task: '任务 #{id}', next_milestone: '里程碑 #{id}',
    step_owner: '通知负责人', step_lead: '通知组长', step_pm: '通知项目经理',
  },
  en: {
    app_name: 'qunban', app_tagline: 'Chat-native project management',
    nav_projects: 'Projects', nav_groups: 'Groups', nav_connectors: 'Connectors', nav_outbox: 'Outbox',
    nav_search: 'Search', nav_playground: 'Playground', nav_menu: 'Menu', lang_switch: '中文', lang_switch_title: '切换到中文',
    sign_out: 'Sign out', sign_in: 'Sign in', signed_out: 'Signed out',
    login: 'Login', password: 'Password', name: 'Name',
    login_title: 'Sign in to qunban', login_failed: 'Sign-in failed',
    setup_title: 'Welcome to qunban', setup_intro: 'There are no accounts yet. Create the first admin account, or load a demo project to look around.',
    setup_create: 'Create admin account', setup_first_admin: 'First admin account',
    demo_load: 'Load a demo project', demo_intro: 'Creates a sample project with groups, members and tasks, and signs you in as its project manager.',
    demo_loading: 'Loading the demo project…', demo_loaded: 'Demo project loaded', demo_accounts: 'Demo accounts', demo_accounts_hint: 'Sign in with these to try each role (click a row to fill the sign-in form).',
    dismiss: 'Dismiss', or: 'or',
    role: 'Role', role_pm: 'Project manager', role_lead: 'Lead', role_executor: 'Executor', role_supervisor: 'Supervisor', role_viewer: 'Viewer', role_admin: 'Admin',
    projects_title: 'Projects', projects_empty: 'No projects yet.', health_good: 'On track', health_at_risk: 'At risk', health_off_track: 'Off track', health_unknown: 'Unknown',
    stat_open: 'Open', stat_overdue: 'Overdue', stat_on_time: 'On time', stat_total: 'Total', stat_done: 'Done',
    tab_board: 'Board', tab_gantt: 'Gantt', tab_metrics: 'Metrics', tab_workload: 'Workload',
    status_todo: 'To do', status_in_progress: 'In progress', status_blocked: 'Blocked', status_paused: 'Paused', status_review: 'Review', status_done: 'Done', status_cancelled: 'Cancelled',
    board_empty_col: 'Drop tasks here', board_move_hint: 'Drag a card to another column to change its status', board_read_only: 'You are a viewer of this project: read only', no_owner: 'Unassigned', no_due: 'No deadline', overdue: 'Overdue',
    moved: 'Updated', change_status: 'Change status',
    task_title: 'Task', task_owners: 'Owners', task_due: 'Due', task_status: 'Status', task_progress: 'Progress', task_priority: 'Priority',
    task_project: 'Project', task_created: 'Created', task_updated: 'Updated', task_done_at: 'Finished', task_note: 'Note',
    task_edit: 'Edit task', save: 'Save', saved: 'Saved', no_changes: 'Nothing changed',
    history: 'History', history_empty: 'No changes yet', h_time: 'Time', h_actor: 'By', h_source: 'Source', h_field: 'Field', h_change: 'Change',
    created_by_message: 'Message that created this task', caused_by: 'From message', back_to_board: 'Back to board',
    field_status: 'Status', field_progress: 'Progress', field_due: 'Due', field_owners: 'Owners', field_title: 'Title', field_note: 'Note', field_priority: 'Priority', field_created: 'Created',
    src_chat: 'Chat', src_web: 'Web', src_api: 'API', src_import: 'Import', src_scheduler: 'Scheduler', src_replay: 'Replay', src_cli: 'CLI',
    gantt_title: 'Gantt chart', gantt_open: 'Open the SVG in a new tab',
    metrics_title: 'Metrics', m_on_time: 'On-time rate', m_on_time_original: 'On time vs original deadline', m_delay: 'Delay rate', m_cycle_p50: 'Cycle time p50', m_cycle_p90: 'Cycle time p90',
    m_completed: 'Completed', m_overdue: 'Overdue now', m_open: 'Open', m_moves: 'Deadline moves', m_reopens: 'Reopened', m_reassign: 'Reassigned',
    m_throughput: 'Completed per week', m_throughput_member: 'Completed per member', m_outcome: 'Outcome', m_on_time_n: 'On time', m_late_n: 'Late', m_no_deadline_n: 'No deadline',
    m_workload: 'Current workload', m_burndown: 'Milestone burn-down', m_goals: 'Goals', m_period: 'Period', m_no_data: 'No data yet', m_hours: 'h', m_days: 'd', m_avg_delay: 'Average delay', m_remaining: 'Remaining', m_scope: 'Scope',
    workload_title: 'Workload', w_member: 'Member', w_open: 'Open', w_due_week: 'Due this week', w_overdue: 'Overdue', w_done7: 'Done (7 days)', w_blocked: 'Blocked',
    groups_title: 'Groups', groups_empty: 'No groups yet.', kind_master: 'Master', kind_subtask: 'Sub-task', kind_support: 'Support', kind_unbound: 'Unbound',
    robot: 'Robot', no_robot: 'No robot configured', reminders: 'Reminder rules', rule_on: 'on', rule_off: 'off', test_send: 'Test send', test_sent: 'Test message queued',
    rule_morning: 'Morning', rule_digest: 'Afternoon digest', rule_weekly: 'Weekly report', rule_due_soon: 'Due soon', rule_overdue: 'Overdue', rule_milestone: 'Milestone',
    hours_before: '{h} h before', hours_after: '{h} h after',
    connectors_title: 'Connectors', connectors_empty: 'No connectors yet. Add one with qunban connector add.', callback_url: 'Callback URL', copy: 'Copy', copied: 'Copied', copy_failed: 'Copy failed; select the text by hand',
    outbox_title: 'Outbox', ob_pending: 'Pending', ob_sent: 'Sent', ob_dead: 'Dead letters', ob_empty: 'No messages', requeue: 'Requeue', requeued: 'Requeued',
    ob_attempts: 'Attempts', ob_error: 'Error', ob_created: 'Created', ob_sent_at: 'Sent', ob_group: 'Group', ob_kind: 'Kind',
    search_title: 'Search', search_placeholder: 'Search tasks, chat messages and decisions', search_go: 'Search', search_tasks: 'Tasks', search_messages: 'Chat messages', search_decisions: 'Decisions', search_none: 'Nothing found', search_hint: 'Type a word to search',
    pg_title: 'Chat playground', pg_intro: 'Send messages as if in the group chat and watch the bot update the project.', pg_group: 'Group', pg_member: 'Speak as', pg_send: 'Send',
    pg_placeholder: 'e.g. @李四 明天下午3点前把测试报告写完 · #TASK-001 进度60% · #TASK-001 已完成',
    pg_examples: 'Try:', pg_bot: 'qunban bot', pg_no_reply: '(no reply from the bot)', pg_board: 'Project board', pg_no_project: 'This group is not bound to a project', pg_self_only: 'Only admins may speak as someone else',
    pg_empty: 'No messages yet: send the first one.', pg_created: 'created', pg_updated: 'updated',
    loading: 'Loading…', error: 'Something went wrong', retry: 'Retry', forbidden: 'You may not see this page', not_found: 'Not found', err_network: 'Cannot reach the server',
    members: 'Members', milestones: 'Milestones', none: 'None', yes: 'yes', no: 'no',
    err_login: 'Wrong login or password', err_session: 'Your session has ended: sign in again', err_forbidden: 'Not allowed', err_bad_request: 'Bad request', err_invalid: 'Not acceptable',
    err_conflict: 'This conflicts with the current state', err_server: 'The server failed; try again later', err_busy: 'Too many requests; try again later',
    nav_account: 'My account', account_title: 'My account', account_profile: 'Profile', account_admin: 'Workspace admin', account_roles: 'Project roles', account_no_roles: 'No project roles yet',
    tokens_title: 'API tokens', tokens_intro: 'Scripts and other tools call the API with a token: send the header Authorization: Bearer <token>.', tokens_empty: 'No tokens yet.',
    token_name: 'Token name', token_name_placeholder: 'e.g. daily report script', token_create: 'Create token', token_created: 'Token created',
    token_secret: 'New token', token_secret_warning: 'Copy it now and keep it safe: once you close or leave this page it will not be shown again.', token_done: 'I have saved it',
    token_revoke: 'Revoke', token_revoke_confirm: 'Really revoke?', token_revoked: 'Token revoked', token_created_at: 'Created',
    calendar_title: 'Calendar feed', calendar_intro: 'Subscribe to the link below in a calendar app to see your deadlines. Its token is read-only and works for calendars only; generating a new link ends the old one.', calendar_create: 'Create feed link', calendar_rotate: 'New link', calendar_revoke: 'Turn off link', calendar_none: 'No feed link yet.', calendar_active: 'Feed link active, created',
    rules_read_only: "Only the project's PM or lead may change reminder rules", rule_enabled: 'Enabled', rule_time: 'Time', rule_hours: 'Hours (comma-separated)',
    rule_saved: 'Reminder rule saved', rule_bad_hours: 'Enter whole hours separated by commas, e.g. 24, 2', rule_bad_time: 'Enter a time as HH:MM',
    next_title: 'Next reminders', next_none: 'No reminders in the next 7 days', next_more: '{n} more', next_task: 'task #{id}', next_milestone: 'milestone #{id}',
    step_owner: 'owners', step_lead: 'leads', step_pm: 'PMs',
  },
};

const LANG_KEY = 'qunban.lang';
const DEMO_KEY = 'qunban.demoAccounts';
/** Until /me answers (the sign-in page): the default workspace zone. */
const DEFAULT_TZ = 'Asia/Shanghai';
const STATUSES = ['todo', 'in_progress', 'blocked', 'review', 'done', 'paused', 'cancelled'];
const COLLAPSED = new Set(['paused', 'cancelled']);

const state = {
  lang: readLang(),
  me: null,
  route: null,
  renderSeq: 0,
  menuOpen: false,
  expanded: new Set(), // board columns the user opened
};

function readLang() {
  try {
    const l = localStorage.getItem(LANG_KEY);
    return l === 'en' ? 'en' : 'zh';
  } catch (_) {
    return 'zh';
  }
}

function t(key, vars) {
  const dict = I18N[state.lang] || I18N.zh;
  let s = dict[key] ?? I18N.zh[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** A translated label for an enum value, or the raw value when unknown. */
function tv(prefix, value) {
  if (value == null || value === '') return '—';
  const key = `${prefix}_${value}`;
  const s = t(key);
  return s === key ? String(value) : s;
}

function setLang(lang) {
  state.lang = lang;
  try { localStorage.setItem(LANG_KEY, lang); } catch (_) { /* private mode */ }
  applyLang();
  render();
}

function applyLang() {
  document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
}

// ----------------------------------------------------------- DOM tools --

/** h('div', {class: 'x', onclick: fn}, child, 'text', [more]) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'testid') el.setAttribute('data-testid', v);
    else if (k === 'value' && 'value' in el && el.namespaceURI !== SVG_NS) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}`, testid: 'toast', 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-text' }, message),
    h('button', { class: 'toast-close', type: 'button', 'aria-label': t('dismiss'), onclick: () => el.remove() }, '×'));
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 7000);
}

// --------------------------------------------------------------- data --

class ApiError extends Error {
  /** message: what the user reads (translated when we know better); detail: the server's own words. */
  constructor(message, status, code, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail ?? message;
  }
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** The sentence a person reads for a failed call. */
function errorText(status, code, detail, path, method) {
  const d = detail || '';
  if (status === 401) return method === 'POST' && path.startsWith('/session') ? t('err_login') : t('err_session');
  if (status === 403) {
    // A refused task change is the bot's sentence in the reader's language
    // already; other refusals are English, so say it in Chinese first.
    if (!d) return t('err_forbidden');
    return state.lang === 'zh' && !CJK.test(d) ? `${t('err_forbidden')}：${d}` : d;
  }
  if (status === 404) return d ? `${t('not_found')}: ${d}` : t('not_found');
  if (status === 409) return d || t('err_conflict');
  if (status === 422) return d || t('err_invalid');
  if (status === 400 || status === 415) return d ? `${t('err_bad_request')}: ${d}` : t('err_bad_request');
  if (status === 429) return t('err_busy');
  if (status >= 500) return `${t('err_server')} (${status})`;
  return d || `${t('error')} (${status})`;
}

/** Calls /api/v1{path}; resolves to the JSON body, or throws ApiError with the server's message. */
async function api(method, path, body) {
  // The server may word its messages in the reader's language.
  const opts = { method, headers: { Accept: 'application/json', 'Accept-Language': state.lang === 'en' ? 'en' : 'zh-CN,zh;q=0.9' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, opts);
  } catch (_) {
    throw new ApiError(t('err_network'), 0, 'network', '');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (_) { data = text; }
  }
  if (!res.ok) {
    const err = data && typeof data === 'object' && data.error ? data.error : {};
    const detail = typeof err.message === 'string' ? err.message : '';
    if (res.status === 401 && !path.startsWith('/session') && !path.startsWith('/setup')) {
      state.me = null;
      if (!location.hash.startsWith('#/login')) location.hash = '#/login';
    }
    throw new ApiError(errorText(res.status, err.code, detail, path, method), res.status, err.code, detail);
  }
  return data;
}

/** The array inside a response, whether it is the body itself or one of its keys. */
function list(data, ...keys) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    for (const k of keys) if (Array.isArray(data[k])) return data[k];
  }
  return [];
}

// Every task of a project: `GET /tasks` is paged, so follow `next_cursor`
// (the largest page, 500, keeps the round trips few).
async function loadProjectTasks(projectId) {
  const tasks = [];
  let cursor = null;
  do {
    const q = `project_id=${encodeURIComponent(projectId)}&limit=500` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const data = await api('GET', `/tasks?${q}`);
    tasks.push(...list(data, 'tasks'));
    cursor = data && data.next_cursor;
  } while (cursor);
  return { tasks };
}

function pick(obj, ...keys) {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const k of keys) if (obj[k] != null) return obj[k];
  return undefined;
}

function personName(p) {
  if (p == null) return '';
  if (typeof p === 'string' || typeof p === 'number') return String(p);
  return pick(p, 'display_name', 'name', 'login', 'member') ?? '';
}

async function loadMembers() {
  try {
    const data = await api('GET', '/members');
    const map = new Map();
    for (const m of list(data, 'members')) map.set(m.id, m);
    return map;
  } catch (e) {
    if (e.status === 401) throw e;
    return new Map();
  }
}

function ownerNames(task, members) {
  if (Array.isArray(task.owner_names) && task.owner_names.length) return task.owner_names.map(String);
  const owners = Array.isArray(task.owners) ? task.owners : [];
  return owners.map((o) => {
    if (typeof o === 'number') return personName(members && members.get(o)) || `#${o}`;
    return personName(o);
  }).filter(Boolean);
}

function taskStatus(task) {
  return String(task.status || 'todo');
}

function isClosed(status) {
  return status === 'done' || status === 'cancelled';
}

function isOverdue(task) {
  const due = toDate(task.due ?? task.due_at);
  return !!due && due.getTime() < Date.now() && !isClosed(taskStatus(task));
}

// -------------------------------------------------------------- format --

function toDate(v) {
  if (v == null || v === '') return null;
  if (typeof v === 'number') return new Date(v > 1e12 ? v : v * 1000);
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function fmt(v, opts) {
  const d = toDate(v);
  if (!d) return '—';
  try {
    return new Intl.DateTimeFormat(state.lang === 'en' ? 'en-GB' : 'zh-CN', { timeZone: zone(), hour12: false, ...opts }).format(d);
  } catch (_) {
    return d.toISOString();
  }
}

const fmtTime = (v) => fmt(v, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
const fmtShort = (v) => fmt(v, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function pct(r) {
  if (r == null || Number.isNaN(Number(r))) return '—';
  const n = Number(r);
  return `${Math.round(n > 1 ? n : n * 100)}%`;
}

function num(v, digits = 1) {
  if (v == null || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** The workspace time zone (from /me): times are shown and edited in it,
 * whatever the browser's own zone. */
function zone() {
  return (state.me && state.me.time_zone) || DEFAULT_TZ;
}

/** Minutes east of UTC of the workspace zone at the instant `d`. */
function zoneOffset(d) {
  const p = {};
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone(), hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(d);
  for (const { type, value } of parts) p[type] = value;
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60000);
}

/** The workspace wall-clock value of an instant for <input type=datetime-local>. */
function toLocalInput(v) {
  const d = toDate(v);
  if (!d) return '';
  return new Date(d.getTime() + zoneOffset(d) * 60000).toISOString().slice(0, 16);
}

/** A datetime-local value, read as workspace wall-clock time, as RFC 3339
 * with the zone's offset at that time (daylight saving time included). */
function fromLocalInput(s) {
  if (!s) return null;
  const full = s.length === 16 ? `${s}:00` : s;
  const wall = Date.parse(`${full}Z`);
  let off = zoneOffset(new Date(wall));
  const again = zoneOffset(new Date(wall - off * 60000));
  if (again !== off) off = again;
  const a = Math.abs(off);
  return `${full}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// -------------------------------------------------------------- router --

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/projects';
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { parts, params: new URLSearchParams(query), raw };
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

const ROUTES = [
  // [pattern parts, page name, handler]
  [['login'], 'login', pageLogin],
  [['projects'], 'projects', pageProjects],
  [['p', ':id', 'board'], 'board', pageBoard],
  [['p', ':id', 'gantt'], 'gantt', pageGantt],
  [['p', ':id', 'metrics'], 'metrics', pageMetrics],
  [['p', ':id', 'workload'], 'workload', pageWorkload],
  [['p', ':id'], 'board', pageBoard],
  [['task', ':id'], 'task', pageTask],
  [['groups'], 'groups', pageGroups],
  [['connectors'], 'connectors', pageConnectors],
  [['outbox'], 'outbox', pageOutbox],
  [['search'], 'search', pageSearch],
  [['playground'], 'playground', pagePlayground],
  [['account'], 'account', pageAccount],
];

function matchRoute(parts) {
  for (const [pattern, name, fn] of ROUTES) {
    if (pattern.length !== parts.length) continue;
    const args = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? ((args[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i]))) {
      return { name, fn, args };
    }
  }
  return { name: 'projects', fn: pageProjects, args: {} };
}

async function render() {
  const seq = ++state.renderSeq;
  const { parts, params } = parseHash();
  const route = matchRoute(parts);
  state.route = route.name;
  state.menuOpen = false;
  const main = document.getElementById('main');
  document.body.dataset.page = route.name;
  delete main.dataset.ready; // set again once this page has rendered

  if (route.name !== 'login' && !state.me) {
    try {
      state.me = await api('GET', '/me');
    } catch (e) {
      if (seq !== state.renderSeq) return;
      if (e.status === 401) { location.hash = '#/login'; return; }
      renderHeader();
      showError(main, e);
      return;
    }
  }
  if (seq !== state.renderSeq) return;
  renderHeader();
  clear(main).appendChild(h('p', { class: 'loading', testid: 'loading' }, t('loading')));
  try {
    const el = await route.fn(route.args, params, () => seq === state.renderSeq);
    if (seq !== state.renderSeq) return;
    clear(main).appendChild(el);
    main.dataset.ready = route.name;
  } catch (e) {
    if (seq !== state.renderSeq) return;
    if (e.status === 401) return; // api() already went to the sign-in page
    showError(main, e);
  }
}

function showError(main, e) {
  const msg = e.status === 403 ? `${t('forbidden')}: ${e.detail || t('err_forbidden')}` : e.message;
  clear(main).appendChild(h('section', { class: 'panel error-panel', testid: 'page-error', 'data-status': e.status ?? '' },
    h('h2', null, t('error')), h('p', null, msg),
    h('button', { class: 'btn', type: 'button', onclick: () => render() }, t('retry'))));
  main.dataset.ready = 'error';
}

function pageTitle(text) {
  document.title = `${text} · ${t('app_name')}`;
}

// -------------------------------------------------------------- header --

const NAV = [
  ['projects', '#/projects', 'nav_projects'],
  ['groups', '#/groups', 'nav_groups'],
  ['playground', '#/playground', 'nav_playground'],
  ['search', '#/search', 'nav_search'],
  ['outbox', '#/outbox', 'nav_outbox'],
  ['connectors', '#/connectors', 'nav_connectors'],
];

const PROJECT_PAGES = new Set(['board', 'gantt', 'metrics', 'workload', 'task']);

function renderHeader() {
  const top = document.getElementById('top');
  const signedIn = !!state.me && state.route !== 'login';
  top.hidden = false;
  clear(top);
  const langBtn = h('button', { class: 'btn btn-ghost lang', type: 'button', testid: 'lang-toggle', title: t('lang_switch_title'),
    onclick: () => setLang(state.lang === 'zh' ? 'en' : 'zh') }, t('lang_switch'));
  const brand = h('a', { class: 'brand', href: signedIn ? '#/projects' : '#/login', testid: 'brand' },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '群'), h('span', { class: 'brand-name' }, t('app_name')));
  if (!signedIn) {
    top.appendChild(h('div', { class: 'top-row' }, brand, h('div', { class: 'top-actions' }, langBtn)));
    return;
  }
  const current = PROJECT_PAGES.has(state.route) ? 'projects' : state.route;
  const nav = h('nav', { class: 'nav' + (state.menuOpen ? ' open' : ''), id: 'nav', testid: 'nav' },
    NAV.map(([name, href, key]) => h('a', { href, class: name === current ? 'active' : null, testid: `nav-${name}`,
      'aria-current': name === current ? 'page' : null }, t(key))),
    h('span', { class: 'nav-user' },
      h('a', { class: 'who' + (state.route === 'account' ? ' active' : ''), href: '#/account', testid: 'whoami', title: `${t('nav_account')}${state.me.login ? ` (${state.me.login})` : ''}`,
        'aria-current': state.route === 'account' ? 'page' : null }, personName(state.me)),
      h('button', { class: 'btn btn-ghost', type: 'button', testid: 'logout', onclick: signOut }, t('sign_out'))));
  const menuBtn = h('button', { class: 'btn btn-ghost menu-toggle', type: 'button', testid: 'menu-toggle', 'aria-controls': 'nav',
    'aria-expanded': state.menuOpen ? 'true' : 'false',
    onclick: () => {
      state.menuOpen = !state.menuOpen;
      nav.classList.toggle('open', state.menuOpen);
      menuBtn.setAttribute('aria-expanded', state.menuOpen ? 'true' : 'false');
    } }, h('span', { 'aria-hidden': 'true' }, '☰'), h('span', { class: 'sr' }, t('nav_menu')));
  top.appendChild(h('div', { class: 'top-row' }, brand, nav, h('div', { class: 'top-actions' }, langBtn, menuBtn)));
}

async function signOut() {
  try { await api('DELETE', '/session'); } catch (_) { /* signed out anyway */ }
  state.me = null;
  toast(t('signed_out'));
  go('#/login');
}

// --------------------------------------------------------------- login --

function readDemoAccounts() {
  try { return JSON.parse(sessionStorage.getItem(DEMO_KEY) || 'null'); } catch (_) { return null; }
}

async function pageLogin() {
  pageTitle(t('sign_in'));
  let setup = { has_accounts: true, demo_available: false };
  try { setup = (await api('GET', '/setup')) || setup; } catch (e) { toast(e.message, 'error'); }
  const wrap = h('div', { class: 'auth', testid: 'login-page' });
  if (!setup.has_accounts) {
    wrap.appendChild(h('section', { class: 'panel auth-card' },
      h('h1', null, t('setup_title')), h('p', { class: 'muted' }, t('setup_intro')),
      setup.demo_available ? demoBlock() : null,
      setupForm()));
  } else {
    wrap.appendChild(h('section', { class: 'panel auth-card' }, h('h1', null, t('login_title')), loginForm()));
    const demo = readDemoAccounts();
    if (demo && demo.length) wrap.appendChild(demoAccountsPanel(demo, { fill: true }));
  }
  return wrap;
}

function demoBlock({ divider = true } = {}) {
  const btn = h('button', { class: 'btn btn-primary btn-big', type: 'button', testid: 'demo-button' }, t('demo_load'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    btn.textContent = t('demo_loading');
    try {
      const data = await api('POST', '/demo', {});
      const accounts = list(data, 'accounts');
      try { sessionStorage.setItem(DEMO_KEY, JSON.stringify(accounts)); } catch (_) { /* ignore */ }
      toast(t('demo_loaded'));
      state.me = null;
      go('#/projects');
    } catch (e) {
      toast(e.message, 'error');
      btn.disabled = false;
      btn.textContent = t('demo_load');
    }
  });
  return h('div', { class: 'demo-block' }, btn, h('p', { class: 'muted small' }, t('demo_intro')),
    divider ? h('div', { class: 'divider' }, h('span', null, t('or'))) : null);
}

function field(label, input) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), input);
}

function setupForm() {
  const name = h('input', { name: 'name', required: true, autocomplete: 'name', testid: 'setup-name' });
  const login = h('input', { name: 'login', required: true, autocomplete: 'username', testid: 'setup-login' });
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: '8', autocomplete: 'new-password', testid: 'setup-password' });
  const form = h('form', { class: 'form', testid: 'setup-form' },
    h('h2', null, t('setup_first_admin')),
    field(t('name'), name), field(t('login'), login), field(t('password'), password),
    h('button', { class: 'btn btn-primary', type: 'submit', testid: 'setup-submit' }, t('setup_create')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/setup', { name: name.value.trim(), login: login.value.trim(), password: password.value });
      state.me = null;
      go('#/projects');
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  return form;
}

function loginForm() {
  const login = h('input', { name: 'login', required: true, autocomplete: 'username', testid: 'login-input', id: 'login-input' });
  const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password', testid: 'password-input', id: 'password-input' });
  const form = h('form', { class: 'form', testid: 'login-form' },
    field(t('login'), login), field(t('password'), password),
    h('button', { class: 'btn btn-primary', type: 'submit', testid: 'login-submit' }, t('sign_in')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/session', { login: login.value.trim(), password: password.value });
      state.me = null;
      go('#/projects');
    } catch (e) {
      toast(e.status === 401 || e.status === 0 ? e.message : `${t('login_failed')}: ${e.message}`, 'error');
    }
  });
  return form;
}

function demoAccountsPanel(accounts, { fill = false, onClose } = {}) {
  const rows = accounts.map((a) => h('tr', {
    class: fill ? 'clickable' : null, testid: 'demo-account', 'data-login': a.login, 'data-role': a.role,
    onclick: fill ? () => {
      document.getElementById('login-input').value = a.login;
      document.getElementById('password-input').value = a.password;
    } : null,
  }, h('td', null, a.name), h('td', null, tv('role', a.role)), h('td', null, h('code', null, a.login)), h('td', null, h('code', null, a.password))));
  return h('section', { class: 'panel demo-accounts', testid: 'demo-accounts' },
    h('div', { class: 'panel-head' }, h('h2', null, t('demo_accounts')),
      onClose ? h('button', { class: 'btn btn-ghost', type: 'button', onclick: onClose }, t('dismiss')) : null),
    h('p', { class: 'muted small' }, t('demo_accounts_hint')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', null, t('name')), h('th', null, t('role')), h('th', null, t('login')), h('th', null, t('password')))),
      h('tbody', null, rows))));
}

// ------------------------------------------------------------ projects --

async function pageProjects() {
  pageTitle(t('projects_title'));
  const data = await api('GET', '/projects');
  const projects = list(data, 'projects');
  const wrap = h('div', { class: 'page', testid: 'projects-page' }, h('h1', null, t('projects_title')));
  const demo = readDemoAccounts();
  if (demo && demo.length) {
    const panel = demoAccountsPanel(demo, { onClose: () => { panel.remove(); try { sessionStorage.removeItem(DEMO_KEY); } catch (_) { /* ignore */ } } });
    wrap.appendChild(panel);
  }
  if (!projects.length) {
    wrap.appendChild(h('p', { class: 'muted empty', testid: 'projects-empty' }, t('projects_empty')));
    const setup = await api('GET', '/setup').catch(() => null);
    if (setup && setup.demo_available && state.me && state.me.is_admin) {
      wrap.appendChild(h('section', { class: 'panel demo-offer' }, demoBlock({ divider: false })));
    }
  }
  wrap.appendChild(h('div', { class: 'cards' }, projects.map(projectCard)));
  return wrap;
}

function projectCard(p) {
  const health = p.health || 'unknown';
  const total = Number(p.total ?? 0);
  const done = Number(p.done ?? 0);
  const ratio = total ? Math.round((done / total) * 100) : 0;
  return h('article', { class: `card project-card health-${health}`, testid: 'project-card', 'data-project-id': p.id, 'data-health': health },
    h('div', { class: 'card-head' },
      h('a', { class: 'project-name', href: `#/p/${p.id}/board`, testid: 'project-link' }, p.name),
      h('span', { class: `badge health health-${health}`, testid: 'project-health' }, tv('health', health))),
    p.description ? h('p', { class: 'muted small' }, p.description) : null,
    h('div', { class: 'stats' },
      stat(t('stat_open'), p.open ?? '—', 'stat-open'),
      stat(t('stat_overdue'), p.overdue ?? '—', 'stat-overdue', Number(p.overdue) > 0 ? 'bad' : null),
      stat(t('stat_on_time'), pct(p.on_time_rate), 'stat-on-time')),
    h('div', { class: 'progress', title: `${done}/${total}` }, h('span', { style: `width:${ratio}%` })),
    h('div', { class: 'muted small' }, `${t('stat_done')} ${done} / ${t('stat_total')} ${total}`),
    h('nav', { class: 'card-links' },
      ['board', 'gantt', 'metrics', 'workload'].map((tab) => h('a', { href: `#/p/${p.id}/${tab}` }, t(`tab_${tab}`)))));
}

function stat(label, value, testid, cls) {
  return h('div', { class: 'stat' + (cls ? ` ${cls}` : ''), testid },
    h('div', { class: 'stat-value' }, String(value)), h('div', { class: 'stat-label' }, label));
}

async function loadProject(id) {
  const data = await api('GET', `/projects/${encodeURIComponent(id)}`);
  const project = data && data.project && typeof data.project === 'object' ? { ...data, ...data.project } : data || {};
  return project;
}

function projectHeader(project, id, active) {
  return h('div', { class: 'project-head' },
    h('div', { class: 'crumbs' }, h('a', { href: '#/projects' }, t('projects_title')), ' / '),
    h('h1', { testid: 'project-title' }, project.name || `#${id}`),
    h('nav', { class: 'tabs', testid: 'project-tabs' }, ['board', 'gantt', 'metrics', 'workload'].map((tab) =>
      h('a', { href: `#/p/${id}/${tab}`, class: tab === active ? 'active' : null, testid: `tab-${tab}` }, t(`tab_${tab}`)))));
}

// --------------------------------------------------------------- board --

async function pageBoard({ id }) {
  const [project, tasksData, members] = await Promise.all([
    loadProject(id),
    loadProjectTasks(id),
    loadMembers(),
  ]);
  pageTitle(`${project.name || ''} · ${t('tab_board')}`);
  const tasks = list(tasksData, 'tasks');
  const readOnly = isViewer(id);
  const board = h('div', { class: 'board' + (readOnly ? ' read-only' : ''), testid: 'board' });
  const columns = new Map();
  for (const status of STATUSES) {
    const col = boardColumn(status, members);
    columns.set(status, col);
    board.appendChild(col);
  }
  for (const task of tasks) {
    const col = columns.get(taskStatus(task)) || columns.get('todo');
    col.querySelector('.col-cards').appendChild(taskCard(task, members, readOnly));
  }
  for (const col of columns.values()) updateCount(col);
  return h('div', { class: 'page page-wide', testid: 'board-page' },
    projectHeader(project, id, 'board'),
    h('p', { class: 'muted small hint', testid: readOnly ? 'read-only' : null }, readOnly ? t('board_read_only') : t('board_move_hint')),
    h('div', { class: 'board-scroll', testid: 'board-scroll' }, board));
}

function boardColumn(status, members) {
  const collapsed = COLLAPSED.has(status) && !state.expanded.has(status);
  const cards = h('div', { class: 'col-cards' });
  const count = h('span', { class: 'col-count', testid: 'col-count' }, '0');
  const head = h('button', { class: 'col-head', type: 'button', 'aria-expanded': collapsed ? 'false' : 'true',
    onclick: () => {
      if (!COLLAPSED.has(status)) return;
      col.classList.toggle('collapsed');
      const open = !col.classList.contains('collapsed');
      if (open) state.expanded.add(status); else state.expanded.delete(status);
      head.setAttribute('aria-expanded', open ? 'true' : 'false');
    } }, h('span', { class: `dot status-${status}` }), h('span', { class: 'col-title' }, tv('status', status)), count);
  const col = h('section', { class: `column col-${status}` + (collapsed ? ' collapsed' : ''), testid: `column-${status}`, 'data-status': status },
    head, cards, h('div', { class: 'col-empty muted small' }, t('board_empty_col')));
  col.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'move';
    col.classList.add('drop-target');
  });
  col.addEventListener('dragleave', (ev) => {
    if (!col.contains(ev.relatedTarget)) col.classList.remove('drop-target');
  });
  col.addEventListener('drop', (ev) => {
    ev.preventDefault();
    col.classList.remove('drop-target');
    const id = (ev.dataTransfer && ev.dataTransfer.getData('text/plain')) || dragging;
    const card = id && document.querySelector(`[data-testid="task-card"][data-task-id="${CSS.escape(String(id))}"]`);
    if (card) moveTask(card, status, members);
  });
  return col;
}

let dragging = null;

/** A viewer of the project (and nothing more) only reads. */
function isViewer(projectId) {
  const me = state.me;
  if (!me || me.is_admin) return false;
  const roles = list(me.roles).filter((r) => String(r.project_id) === String(projectId)).map((r) => r.role);
  return roles.length > 0 && roles.every((r) => r === 'viewer');
}

function taskCard(task, members, readOnly = false) {
  const status = taskStatus(task);
  const owners = ownerNames(task, members);
  const due = task.due ?? task.due_at;
  const overdue = isOverdue(task);
  const select = h('select', { class: 'card-status', testid: 'card-status', 'aria-label': t('change_status'), disabled: readOnly },
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, tv('status', s))));
  const card = h('article', {
    class: 'task-card' + (overdue ? ' overdue' : ''), draggable: readOnly ? 'false' : 'true', testid: 'task-card',
    'data-task-id': task.id, 'data-ref': task.reference || '', 'data-status': status, 'data-owners': owners.join(','),
  },
  h('div', { class: 'task-ref' }, task.reference || `#${task.id}`, task.priority ? h('span', { class: 'badge prio' }, String(task.priority).toUpperCase()) : null),
  h('a', { class: 'task-title', href: `#/task/${task.id}`, draggable: 'false', testid: 'task-link' }, task.title || '—'),
  h('div', { class: 'task-meta' },
    h('span', { class: 'owners', testid: 'task-owners' }, owners.length ? owners.join('、') : t('no_owner')),
    h('span', { class: 'due' + (overdue ? ' bad' : ''), testid: 'task-due' },
      due ? (overdue ? `${t('overdue')} · ` : '') + fmtShort(due) : t('no_due'))),
  Number(task.progress) > 0 && !isClosed(status) ? h('div', { class: 'progress thin' }, h('span', { style: `width:${Math.min(100, Number(task.progress))}%` })) : null,
  select);
  card.addEventListener('dragstart', (ev) => {
    dragging = String(task.id);
    card.classList.add('dragging');
    if (ev.dataTransfer) {
      ev.dataTransfer.effectAllowed = 'move';
      ev.dataTransfer.setData('text/plain', String(task.id));
    }
  });
  card.addEventListener('dragend', () => {
    dragging = null;
    card.classList.remove('dragging');
    document.querySelectorAll('.drop-target').forEach((c) => c.classList.remove('drop-target'));
  });
  select.addEventListener('change', () => moveTask(card, select.value, members));
  return card;
}

async function moveTask(card, status, members) {
  const from = card.dataset.status;
  const select = card.querySelector('select.card-status');
  if (from === status) return;
  card.classList.add('busy');
  try {
    const res = await api('PATCH', `/tasks/${encodeURIComponent(card.dataset.taskId)}`, { status });
    const task = (res && res.task) || { ...cardTask(card), status };
    const fresh = taskCard(task, members, false);
    const target = document.querySelector(`[data-testid="column-${status}"] .col-cards`);
    card.replaceWith(fresh);
    if (target) target.prepend(fresh);
    document.querySelectorAll('.board .column').forEach(updateCount);
    toast(replyText(res && res.reply) || t('moved'), 'ok');
  } catch (e) {
    card.classList.remove('busy');
    if (select) select.value = from;
    toast(e.message, 'error');
  }
}

function cardTask(card) {
  return { id: card.dataset.taskId, reference: card.dataset.ref, title: card.querySelector('.task-title')?.textContent, owner_names: card.dataset.owners ? card.dataset.owners.split(',') : [] };
}

function updateCount(col) {
  const n = col.querySelectorAll('[data-testid="task-card"]').length;
  col.querySelector('.col-count').textContent = String(n);
  col.classList.toggle('empty', n === 0);
}

function replyText(reply) {
  if (reply == null) return '';
  if (typeof reply === 'string') return reply;
  if (Array.isArray(reply)) return reply.map(replyText).filter(Boolean).join('\n');
  return pick(reply, 'text', 'content', 'message') || '';
}

// ---------------------------------------------------------------- task --

async function pageTask({ id }) {
  const [data, members] = await Promise.all([api('GET', `/tasks/${encodeURIComponent(id)}`), loadMembers()]);
  const task = data && data.task ? data.task : data || {};
  const history = list(data, 'history').length ? list(data, 'history') : list(task, 'history');
  const origin = pick(data, 'created_by_message', 'created_by', 'origin', 'created_message', 'creating_message', 'source_message', 'message') ?? pick(task, 'created_by', 'created_message');
  pageTitle(`${task.reference || ''} ${task.title || ''}`);
  const status = taskStatus(task);
  const owners = ownerNames(task, members);
  const projectId = task.project_id;
  const due = task.due ?? task.due_at;

  return h('div', { class: 'page', testid: 'task-page' },
    h('div', { class: 'crumbs' },
      h('a', { href: '#/projects' }, t('projects_title')), ' / ',
      projectId != null ? h('a', { href: `#/p/${projectId}/board`, testid: 'back-to-board' }, task.project || t('tab_board')) : null),
    h('h1', { testid: 'task-title' }, h('span', { class: 'ref' }, task.reference || ''), ' ', task.title || ''),
    origin ? h('section', { class: 'panel origin' }, h('h2', null, t('created_by_message')), messageQuote(origin, 'origin-message')) : null,
    h('div', { class: 'task-layout' },
      h('section', { class: 'panel', testid: 'task-detail' },
        h('dl', { class: 'facts' },
          fact(t('task_status'), h('span', { class: `badge status-${status}`, testid: 'task-status' }, tv('status', status))),
          fact(t('task_owners'), owners.length ? owners.join('、') : t('no_owner')),
          fact(t('task_due'), h('span', { class: isOverdue(task) ? 'bad' : null }, due ? fmtTime(due) : t('no_due'))),
          fact(t('task_progress'), `${Number(task.progress ?? 0)}%`),
          task.priority ? fact(t('task_priority'), String(task.priority).toUpperCase()) : null,
          task.project ? fact(t('task_project'), task.project) : null,
          fact(t('task_created'), fmtTime(task.created_at)),
          fact(t('task_updated'), fmtTime(task.updated_at)),
          task.done_at ? fact(t('task_done_at'), fmtTime(task.done_at)) : null,
          task.note ? fact(t('task_note'), task.note) : null)),
      editForm(task, isViewer(task.project_id))),
    historyTable(history));
}

function fact(label, value) {
  return [h('dt', null, label), h('dd', null, value)];
}

function editForm(task, readOnly = false) {
  const status = taskStatus(task);
  const sel = h('select', { name: 'status', testid: 'task-status-select' },
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, tv('status', s))));
  const progress = h('input', { name: 'progress', type: 'number', min: '0', max: '100', step: '5', value: String(task.progress ?? 0), testid: 'task-progress-input', inputmode: 'numeric' });
  const dueValue = toLocalInput(task.due ?? task.due_at);
  const due = h('input', { name: 'due', type: 'datetime-local', value: dueValue, testid: 'task-due-input' });
  const title = h('input', { name: 'title', type: 'text', value: task.title ?? '', testid: 'task-title-input', maxlength: '200' });
  const ownersValue = (task.owner_names || []).join('、');
  // Names separated by 、 or commas, as people write them in chat.
  const owners = h('input', { name: 'owners', type: 'text', value: ownersValue, testid: 'task-owners-input' });
  const form = h('form', { class: 'panel form', testid: 'task-edit' }, h('h2', null, t('task_edit')),
    h('fieldset', { class: 'plain', disabled: readOnly },
      field(t('field_title'), title), field(t('task_owners'), owners),
      field(t('task_status'), sel), field(`${t('task_progress')} (%)`, progress), field(t('task_due'), due),
      h('button', { class: 'btn btn-primary', type: 'submit', testid: 'task-save' }, t('save'))),
    readOnly ? h('p', { class: 'muted small' }, t('board_read_only')) : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const patch = {};
    if (sel.value !== status) patch.status = sel.value;
    if (progress.value !== '' && Number(progress.value) !== Number(task.progress ?? 0)) patch.progress = Number(progress.value);
    if (due.value && due.value !== dueValue) patch.due = fromLocalInput(due.value);
    if (title.value.trim() && title.value.trim() !== (task.title ?? '')) patch.title = title.value.trim();
    const names = owners.value.split(/[、,，\s]+/).map((n) => n.replace(/^@/, '').trim()).filter(Boolean);
    if (names.length && names.join('、') !== ownersValue) patch.owners = names;
    if (!Object.keys(patch).length) { toast(t('no_changes')); return; }
    try {
      const res = await api('PATCH', `/tasks/${encodeURIComponent(task.id)}`, patch);
      toast(replyText(res && res.reply) || t('saved'));
      render();
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  return form;
}

function messageQuote(m, testid) {
  if (typeof m === 'string') return h('blockquote', { class: 'quote', testid }, m);
  const sender = pick(m, 'sender_name', 'sender', 'member', 'author');
  const group = pick(m, 'group', 'group_name', 'chat_name', 'chat_id');
  const at = pick(m, 'sent_at', 'at', 'received_at');
  return h('blockquote', { class: 'quote', testid },
    h('div', { class: 'quote-text', testid: `${testid}-text` }, pick(m, 'text', 'content') ?? ''),
    h('footer', { class: 'muted small' }, [personName(sender), typeof group === 'object' ? personName(group) : group, at != null ? fmtTime(at) : null].filter(Boolean).join(' · ')));
}

function fieldValue(fieldName, v) {
  if (v == null || v === '') return '∅';
  if (fieldName === 'status') return tv('status', v);
  if (fieldName === 'due' || fieldName === 'due_at') {
    const d = /^\d+$/.test(String(v)) ? toDate(Number(v)) : toDate(v);
    return d ? fmtTime(d) : String(v);
  }
  if (fieldName === 'progress') return `${v}%`;
  return String(v);
}

function historyTable(history) {
  const rows = history.map((e) => {
    const f = e.field || '';
    const oldV = e.old_value ?? e.old;
    const newV = e.new_value ?? e.new;
    const msg = e.message && (typeof e.message === 'object' || typeof e.message === 'string') ? e.message : null;
    return [
      h('tr', { testid: 'history-row', class: msg ? 'has-msg' : null },
        h('td', { class: 'nowrap', 'data-label': t('h_time') }, fmtTime(e.at ?? e.time)),
        h('td', { 'data-label': t('h_actor') }, personName(e.actor) || '—'),
        h('td', { 'data-label': t('h_source') }, tv('src', e.source)),
        h('td', { 'data-label': t('h_field') }, tv('field', f)),
        h('td', { 'data-label': t('h_change') }, h('span', { class: 'old' }, fieldValue(f, oldV)), ' → ', h('span', { class: 'new' }, fieldValue(f, newV)))),
      msg ? h('tr', { class: 'history-msg-row' }, h('td', { colspan: '5' },
        h('span', { class: 'muted small' }, t('caused_by')), messageQuote(msg, 'history-message'))) : null,
    ];
  });
  return h('section', { class: 'panel', testid: 'history' }, h('h2', null, t('history')),
    history.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table history', testid: 'history-table' },
      h('thead', null, h('tr', null, ['h_time', 'h_actor', 'h_source', 'h_field', 'h_change'].map((k) => h('th', null, t(k))))),
      h('tbody', null, rows))) : h('p', { class: 'muted' }, t('history_empty')));
}

// --------------------------------------------------------------- gantt --

async function pageGantt({ id }) {
  const project = await loadProject(id);
  pageTitle(`${project.name || ''} · ${t('tab_gantt')}`);
  const src = `/api/v1/projects/${encodeURIComponent(id)}/gantt.svg`;
  return h('div', { class: 'page page-wide', testid: 'gantt-page' },
    projectHeader(project, id, 'gantt'),
    h('div', { class: 'panel gantt-scroll', testid: 'gantt' },
      h('img', { src, alt: t('gantt_title'), class: 'gantt-img', testid: 'gantt-img' })),
    h('p', null, h('a', { href: src, target: '_blank', rel: 'noopener' }, t('gantt_open'))));
}

// ------------------------------------------------------------- metrics --

const PALETTE = ['#2f6fde', '#1f9d6b', '#e08a1e', '#c9413a', '#7b5cd6', '#198fa3', '#9a6b3c'];

async function pageMetrics({ id }) {
  const [project, data] = await Promise.all([loadProject(id), api('GET', `/projects/${encodeURIComponent(id)}/metrics`)]);
  pageTitle(`${project.name || ''} · ${t('tab_metrics')}`);
  const m = (data && typeof data.metrics === 'object' && data.metrics) || data || {};
  const arr = (k) => (Array.isArray(m[k]) ? m[k] : []);
  const period = m.from != null && m.to != null ? `${fmt(m.from, { year: 'numeric', month: '2-digit', day: '2-digit' })} – ${fmt(m.to, { year: 'numeric', month: '2-digit', day: '2-digit' })}` : null;

  const kpis = h('div', { class: 'kpis', testid: 'metrics-kpis' },
    kpi(t('m_on_time'), pct(m.on_time_final_rate ?? m.on_time_rate), 'kpi-on-time'),
    kpi(t('m_delay'), pct(m.delay_rate), 'kpi-delay'),
    kpi(t('m_cycle_p50'), duration(m.cycle_time_p50_hours), 'kpi-cycle'),
    kpi(t('m_cycle_p90'), duration(m.cycle_time_p90_hours)),
    m.avg_delay_hours != null ? kpi(t('m_avg_delay'), duration(m.avg_delay_hours)) : null,
    kpi(t('m_completed'), m.completed ?? '—'),
    kpi(t('m_open'), m.open ?? '—'),
    kpi(t('m_overdue'), m.overdue ?? '—', null, Number(m.overdue) > 0 ? 'bad' : null),
    kpi(t('m_moves'), m.deadline_moves ?? '—'),
    kpi(t('m_reopens'), m.reopens ?? '—'),
    kpi(t('m_reassign'), m.reassignments ?? '—'));

  // Completions per ISO week (all members together), and per member.
  const byWeek = new Map();
  const byMember = new Map();
  for (const r of arr('throughput')) {
    const n = Number(r.completed) || 0;
    byWeek.set(r.week, (byWeek.get(r.week) || 0) + n);
    byMember.set(r.member, (byMember.get(r.member) || 0) + n);
  }
  const weeks = [...byWeek.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const outcome = [
    { label: t('m_on_time_n'), value: Number(m.on_time_final) || 0, color: '#1f9d6b' },
    { label: t('m_late_n'), value: Number(m.late) || 0, color: '#c9413a' },
    { label: t('m_no_deadline_n'), value: Number(m.completed_without_deadline) || 0, color: '#8a94a6' },
  ];
  const workload = arr('workload');
  const charts = h('div', { class: 'charts' },
    chartPanel(t('m_throughput'), 'chart-throughput', columnChart(weeks.map(([w, n]) => ({ label: String(w).replace(/^\d{4}-/, ''), value: n })))),
    chartPanel(t('m_outcome'), 'chart-outcome', barChart(outcome)),
    chartPanel(t('m_throughput_member'), 'chart-member', barChart([...byMember.entries()].map(([label, value], i) => ({ label, value, color: PALETTE[i % PALETTE.length] })))),
    chartPanel(t('m_workload'), 'chart-workload', stackedBars(workload.map((w) => ({
      label: personName(w.member ?? w),
      parts: [
        { value: Math.max(0, (Number(w.open) || 0) - (Number(w.overdue) || 0) - (Number(w.blocked) || 0)), color: '#2f6fde', name: t('w_open') },
        { value: Number(w.blocked) || 0, color: '#e08a1e', name: t('w_blocked') },
        { value: Number(w.overdue) || 0, color: '#c9413a', name: t('w_overdue') },
      ],
    })))),
    arr('milestones').map((b) => chartPanel(`${t('m_burndown')} · ${b.milestone ?? ''}`, 'chart-burndown', [
      b.due_at != null ? h('p', { class: 'muted small' }, `${t('task_due')}: ${fmtTime(b.due_at)}`) : null,
      burndown(Array.isArray(b.points) ? b.points : [])])),
    arr('goals').length ? chartPanel(t('m_goals'), 'chart-goals', barChart(arr('goals').map((g, i) => ({
      label: g.name ?? '', value: g.ratio != null ? Math.round(Number(g.ratio) * 100) : 0, suffix: '%', max: 100, color: PALETTE[i % PALETTE.length],
      note: g.current != null ? `${num(g.current)}${g.target != null ? ` / ${num(g.target)}` : ''} ${g.unit ?? ''}` : null,
    })))) : null);

  return h('div', { class: 'page page-wide', testid: 'metrics-page' },
    projectHeader(project, id, 'metrics'),
    period ? h('p', { class: 'muted small' }, `${t('m_period')}: ${period}`) : null,
    kpis, charts);
}

/** Hours as "30 小时" or, from two days on, "9.4 天". */
function duration(hours) {
  if (hours == null || Number.isNaN(Number(hours))) return '—';
  const hrs = Number(hours);
  return hrs >= 48 ? `${num(hrs / 24)} ${t('m_days')}` : `${num(hrs)} ${t('m_hours')}`;
}

function kpi(label, value, testid, cls) {
  return h('div', { class: 'kpi' + (cls ? ` ${cls}` : ''), testid },
    h('div', { class: 'kpi-value' }, String(value)), h('div', { class: 'kpi-label' }, label));
}

function chartPanel(title, testid, chart) {
  return h('section', { class: 'panel chart', testid }, h('h2', null, title), chart);
}

/** Chart viewBox width: narrower on phones so the text stays legible. */
function chartWidth() {
  return Math.round(Math.max(330, Math.min(560, (window.innerWidth || 560) - 40)));
}

function noData() {
  return h('p', { class: 'muted small' }, t('m_no_data'));
}

/** Horizontal bars: [{label, value, color?, suffix?, max?, note?}] */
function barChart(items) {
  if (!items.length || items.every((i) => !i.value)) return noData();
  const rowH = 30;
  const W = chartWidth();
  const labelW = W < 450 ? 92 : 130;
  const max = Math.max(1, ...items.map((i) => i.max ?? i.value));
  const H = items.length * rowH + 8;
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svg-chart', role: 'img', preserveAspectRatio: 'xMinYMin meet' },
    items.map((it, i) => {
      const y = i * rowH + 4;
      const w = Math.max(it.value ? 2 : 0, ((W - labelW - 70) * it.value) / max);
      return svg('g', null,
        svg('text', { x: labelW - 8, y: y + 18, 'text-anchor': 'end', class: 'lbl' }, truncate(it.label, labelW - 12)),
        svg('rect', { x: labelW, y: y + 4, width: w, height: rowH - 10, rx: 3, fill: it.color || PALETTE[0] }, svg('title', null, `${it.label}: ${it.value}`)),
        svg('text', { x: labelW + w + 6, y: y + 18, class: 'val' }, `${it.value}${it.suffix || ''}${it.note ? `  (${it.note})` : ''}`));
    }));
}

/** Vertical columns: [{label, value}] */
function columnChart(items) {
  if (!items.length) return noData();
  const W = chartWidth();
  const H = 220;
  const pad = { l: 30, r: 10, t: 16, b: 34 };
  const max = Math.max(1, ...items.map((i) => i.value));
  const bw = (W - pad.l - pad.r) / items.length;
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const ticks = niceTicks(max);
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svg-chart', role: 'img' },
    ticks.map((v) => svg('g', null,
      svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(v)))),
    items.map((it, i) => {
      const x = pad.l + i * bw + bw * 0.15;
      const top = y(it.value);
      return svg('g', null,
        svg('rect', { x, y: top, width: Math.max(1, bw * 0.7), height: H - pad.b - top, rx: 2, fill: PALETTE[0] }, svg('title', null, `${it.label}: ${it.value}`)),
        it.value ? svg('text', { x: x + bw * 0.35, y: top - 4, 'text-anchor': 'middle', class: 'val' }, String(it.value)) : null,
        (items.length <= 12 || i % Math.ceil(items.length / 12) === 0)
          ? svg('text', { x: x + bw * 0.35, y: H - pad.b + 16, 'text-anchor': 'middle', class: 'axis' }, it.label) : null);
    }));
}

/** Horizontal stacked bars: [{label, parts:[{value,color,name}]}] */
function stackedBars(rows) {
  if (!rows.length) return noData();
  const rowH = 30;
  const W = chartWidth();
  const labelW = W < 450 ? 80 : 110;
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((s, p) => s + p.value, 0)));
  const H = rows.length * rowH + 30;
  const legend = rows[0].parts.map((p, i) => svg('g', null,
    svg('rect', { x: labelW + i * 90, y: 4, width: 12, height: 12, fill: p.color }),
    svg('text', { x: labelW + i * 90 + 16, y: 15, class: 'axis' }, p.name)));
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svg-chart', role: 'img' }, legend,
    rows.map((r, i) => {
      const y = 26 + i * rowH;
      let x = labelW;
      const total = r.parts.reduce((s, p) => s + p.value, 0);
      return svg('g', null,
        svg('text', { x: labelW - 8, y: y + 18, 'text-anchor': 'end', class: 'lbl' }, truncate(r.label, labelW - 12)),
        r.parts.map((p) => {
          const w = ((W - labelW - 50) * p.value) / max;
          const rect = svg('rect', { x, y: y + 4, width: w, height: rowH - 10, fill: p.color }, svg('title', null, `${p.name}: ${p.value}`));
          x += w;
          return rect;
        }),
        svg('text', { x: x + 6, y: y + 18, class: 'val' }, String(total)));
    }));
}

function burndown(points) {
  if (!points.length) return noData();
  const W = chartWidth();
  const H = 200;
  const pad = { l: 30, r: 10, t: 22, b: 30 };
  const max = Math.max(1, ...points.map((p) => Number(p.scope) || 0));
  const n = points.length;
  const x = (i) => pad.l + ((W - pad.l - pad.r) * (n === 1 ? 0.5 : i / (n - 1)));
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const line = (key) => points.map((p, i) => `${x(i).toFixed(1)},${y(Number(p[key]) || 0).toFixed(1)}`).join(' ');
  const step = Math.ceil(n / 6);
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svg-chart', role: 'img' },
    niceTicks(max).map((v) => svg('g', null, svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(v)))),
    svg('polyline', { points: line('scope'), fill: 'none', stroke: '#8a94a6', 'stroke-width': 2, 'stroke-dasharray': '4 3' }),
    svg('polyline', { points: line('remaining'), fill: 'none', stroke: '#c9413a', 'stroke-width': 2.5 }),
    points.map((p, i) => ((i % step === 0 && n - 1 - i >= step / 2) || i === n - 1)
      ? svg('text', { x: x(i), y: H - 10, 'text-anchor': i === n - 1 && n > 1 ? 'end' : i === 0 ? 'start' : 'middle', class: 'axis' }, String(p.day ?? '').slice(5)) : null),
    svg('line', { x1: W - 190, x2: W - 172, y1: 8, y2: 8, stroke: '#c9413a', 'stroke-width': 2.5 }),
    svg('text', { x: W - 168, y: 12, class: 'axis' }, t('m_remaining')),
    svg('line', { x1: W - 95, x2: W - 77, y1: 8, y2: 8, stroke: '#8a94a6', 'stroke-width': 2, 'stroke-dasharray': '4 3' }),
    svg('text', { x: W - 73, y: 12, class: 'axis' }, t('m_scope')));
}

function niceTicks(max) {
  const step = max <= 5 ? 1 : Math.ceil(max / 4);
  const out = [];
  for (let v = 0; v <= max; v += step) out.push(v);
  return out;
}

/** Shortens a label to about `px` pixels of 12px text (CJK glyphs count double). */
function truncate(s, px) {
  const str = String(s ?? '');
  let width = 0;
  let out = '';
  for (const ch of str) {
    width += /[\u2e80-\uffff]/.test(ch) ? 12 : 7;
    if (width > px) return `${out}…`;
    out += ch;
  }
  return out;
}

// ------------------------------------------------------------ workload --

async function pageWorkload({ id }) {
  const [project, data] = await Promise.all([loadProject(id), api('GET', `/projects/${encodeURIComponent(id)}/workload`)]);
  pageTitle(`${project.name || ''} · ${t('tab_workload')}`);
  const rows = list(data, 'workload', 'members');
  const done7 = (r) => pick(r, 'done_last_7_days', 'done_7d', 'done_last_week', 'done_7_days', 'done_recent') ?? 0;
  const max = Math.max(1, ...rows.map((r) => Number(r.open) || 0), ...rows.map((r) => Number(done7(r)) || 0));
  const bar = (v, cls) => h('span', { class: `wbar ${cls}`, style: `width:${Math.round(((Number(v) || 0) / max) * 100)}%` });
  return h('div', { class: 'page', testid: 'workload-page' },
    projectHeader(project, id, 'workload'),
    h('section', { class: 'panel' },
      rows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table workload', testid: 'workload-table' },
        h('thead', null, h('tr', null, h('th', null, t('w_member')), h('th', { class: 'num' }, t('w_open')), h('th', { class: 'num' }, t('w_due_week')),
          h('th', { class: 'num' }, t('w_overdue')), h('th', { class: 'num' }, t('w_done7')), h('th', { class: 'bars-col' }, ''))),
        h('tbody', null, rows.map((r) => h('tr', { testid: 'workload-row' },
          h('td', null, personName(r.member ?? r)),
          h('td', { class: 'num' }, String(r.open ?? 0)),
          h('td', { class: 'num' }, String(r.due_this_week ?? 0)),
          h('td', { class: 'num' + (Number(r.overdue) > 0 ? ' bad' : '') }, String(r.overdue ?? 0)),
          h('td', { class: 'num' }, String(done7(r))),
          h('td', { class: 'bars-col' }, h('div', { class: 'wbars' }, bar(r.open, 'open'), bar(done7(r), 'done'))))))))
        : h('p', { class: 'muted' }, t('m_no_data')),
      h('p', { class: 'legend muted small' }, h('span', { class: 'swatch open' }), t('w_open'), ' ', h('span', { class: 'swatch done' }), t('w_done7'))));
}

// -------------------------------------------------------------- groups --

async function pageGroups() {
  pageTitle(t('groups_title'));
  const [data, projects] = await Promise.all([api('GET', '/groups'), api('GET', '/projects').catch(() => null)]);
  const groups = list(data, 'groups');
  const projectNames = new Map(list(projects, 'projects').map((p) => [p.id, p.name]));
  const ids = new Set(groups.map((g) => g.id));
  const children = new Map();
  const roots = [];
  for (const g of groups) {
    const parent = g.parent_group_id ?? (g.parent && typeof g.parent === 'object' ? g.parent.id : g.parent);
    if (parent != null && ids.has(parent) && parent !== g.id) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(g);
    } else roots.push(g);
  }
  const node = (g, depth) => h('li', { class: 'group-node' }, groupCard(g, projectNames),
    children.has(g.id) && depth < 8 ? h('ul', { class: 'group-tree' }, children.get(g.id).map((c) => node(c, depth + 1))) : null);
  return h('div', { class: 'page', testid: 'groups-page' }, h('h1', null, t('groups_title')),
    groups.length ? h('ul', { class: 'group-tree root', testid: 'group-tree' }, roots.map((g) => node(g, 0))) : h('p', { class: 'muted' }, t('groups_empty')));
}

function groupCard(g, projectNames) {
  let rules = pick(g, 'reminders', 'rules', 'reminder_rules');
  if (rules && !Array.isArray(rules)) rules = Array.isArray(rules.rules) ? rules.rules : null;
  const project = typeof g.project === 'string' ? g.project : personName(g.project) || projectNames.get(g.project_id);
  const robot = g.robot;
  const editable = canManageProject(g.project_id);
  const btn = h('button', { class: 'btn', type: 'button', testid: 'test-send' }, t('test_send'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const res = await api('POST', `/groups/${encodeURIComponent(g.id)}/test-send`, {});
      toast(replyText(res && (res.message || res.text)) || t('test_sent'));
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      btn.disabled = false;
    }
  });
  const rulesBox = h('div', { class: 'rules-box' });
  const nextBox = h('div', { class: 'next-box', testid: 'next-reminders', 'data-loading': '1' });

  function showRules(list_) {
    rules = list_;
    clear(rulesBox);
    if (!rules || !rules.length) return;
    const on = rules.filter((r) => r.enabled !== false).length;
    rulesBox.appendChild(h('details', { class: 'rules', open: true },
      h('summary', { testid: 'rules-summary' }, `${t('reminders')} (${on}/${rules.length})`),
      editable ? null : h('p', { class: 'muted small', testid: 'rules-read-only' }, t('rules_read_only')),
      h('ul', { class: 'rule-list' + (editable ? ' editable' : ''), testid: 'rule-list' },
        rules.map((r) => (editable ? ruleEditor(g, r, onSaved) : ruleView(r))))));
  }

  function onSaved(rule) {
    showRules(rules.map((r) => ((r.kind ?? r.rule) === (rule.kind ?? rule.rule) ? { ...r, ...rule } : r)));
    loadNext();
  }

  async function loadNext() {
    nextBox.dataset.loading = '1';
    try {
      const data = await api('GET', `/groups/${encodeURIComponent(g.id)}/reminders`);
      if (!rules && Array.isArray(data && data.rules)) showRules(data.rules);
      showNext(nextBox, list(data, 'next'));
    } catch (e) {
      clear(nextBox);
      if (e.status !== 401) nextBox.appendChild(h('p', { class: 'muted small' }, e.message));
    } finally {
      delete nextBox.dataset.loading;
    }
  }

  showRules(rules);
  loadNext();
  return h('article', { class: `panel group-card kind-${g.kind}`, testid: 'group-item', 'data-group-id': g.id, 'data-kind': g.kind || '',
    'data-editable': editable ? 'true' : 'false' },
    h('div', { class: 'card-head' },
      h('div', null, h('h2', { class: 'group-name' }, g.name || g.chat_id || `#${g.id}`),
        h('div', { class: 'muted small' }, [project, g.platform && g.chat_id ? `${g.platform}:${g.chat_id}` : null].filter(Boolean).join(' · '))),
      h('span', { class: `badge kind kind-${g.kind}` }, tv('kind', g.kind))),
    h('div', { class: 'robot small' }, h('strong', null, `${t('robot')}: `),
      robot ? [typeof robot === 'object' ? [robot.kind, robot.webhook_url || robot.url].filter(Boolean).join(' · ') : String(robot)] : h('span', { class: 'muted' }, t('no_robot'))),
    rulesBox, nextBox,
    h('div', { class: 'actions' }, btn));
}

/** PMs and leads of the project (and admins) change its groups' reminders. */
function canManageProject(projectId) {
  const me = state.me;
  if (!me) return false;
  if (me.is_admin) return true;
  if (projectId == null) return false;
  return list(me.roles).some((r) => String(r.project_id) === String(projectId) && (r.role === 'pm' || r.role === 'lead'));
}

const TIME_RULES = new Set(['morning', 'digest', 'weekly']);

function ruleKind(r) {
  return String(r.kind ?? r.rule ?? r.name ?? '');
}

function ruleView(r) {
  const kind = ruleKind(r);
  return h('li', { class: r.enabled === false ? 'off' : null, testid: 'rule-item', 'data-rule': kind },
    h('span', { class: 'rule-name' }, tv('rule', kind)),
    h('span', { class: 'rule-when', testid: 'rule-when' }, ruleWhen(r)),
    h('span', { class: `badge ${r.enabled === false ? 'off' : 'on'}`, testid: 'rule-state' }, r.enabled === false ? t('rule_off') : t('rule_on')));
}

function ruleEditor(g, r, onSaved) {
  const kind = ruleKind(r);
  const timed = TIME_RULES.has(kind) || (r.at != null && !Array.isArray(r.hours));
  const enabled = h('input', { type: 'checkbox', checked: r.enabled !== false, testid: 'rule-enabled' });
  const atValue = r.at ? String(r.at).slice(0, 5) : '';
  const hoursValue = Array.isArray(r.hours) ? r.hours.join(', ') : '';
  const value = timed
    ? h('input', { type: 'time', step: '60', value: atValue, testid: 'rule-at', required: true, 'aria-label': `${tv('rule', kind)} · ${t('rule_time')}` })
    : h('input', { type: 'text', inputmode: 'numeric', value: hoursValue, testid: 'rule-hours', 'aria-label': `${tv('rule', kind)} · ${t('rule_hours')}`, placeholder: '24, 2', class: 'hours-input' });
  const save = h('button', { class: 'btn btn-small', type: 'submit', testid: 'rule-save' }, t('save'));
  const li = h('li', { class: 'rule-edit' + (r.enabled === false ? ' off' : ''), testid: 'rule-item', 'data-rule': kind },
    h('label', { class: 'rule-toggle', title: t('rule_enabled') }, enabled, h('span', { class: 'rule-name' }, tv('rule', kind))),
    h('form', { class: 'rule-form', testid: 'rule-form' }, value, save),
    timed ? null : h('span', { class: 'rule-hint muted small' }, ruleWhen(r)));

  async function put(body, control) {
    control.disabled = true;
    try {
      const res = await api('PUT', `/groups/${encodeURIComponent(g.id)}/reminders/${encodeURIComponent(kind)}`, body);
      toast(t('rule_saved'));
      onSaved((res && res.rule) || { kind, ...body });
    } catch (e) {
      toast(e.message, 'error');
      control.disabled = false;
      if ('enabled' in body) enabled.checked = !body.enabled;
    }
  }

  enabled.addEventListener('change', () => put({ enabled: enabled.checked }, enabled));
  li.querySelector('form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (timed) {
      const at = value.value.slice(0, 5);
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(at)) { toast(t('rule_bad_time'), 'error'); return; }
      if (at === atValue) { toast(t('no_changes')); return; }
      put({ at }, save);
    } else {
      const parts = value.value.split(/[\s,，、;；]+/).filter(Boolean);
      const hours = parts.map(Number);
      if (!parts.length || hours.some((x) => !Number.isInteger(x) || x <= 0)) { toast(t('rule_bad_hours'), 'error'); return; }
      if (hours.join(', ') === hoursValue) { toast(t('no_changes')); return; }
      put({ hours }, save);
    }
  });
  return li;
}

function ruleWhen(r) {
  if (r.at) return String(r.at).slice(0, 5);
  const hours = Array.isArray(r.hours) ? r.hours : [];
  if (!hours.length) return '';
  const kind = ruleKind(r);
  return hours.map((x) => (kind === 'overdue' ? t('hours_after', { h: x }) : t('hours_before', { h: x }))).join(', ');
}

/** The next occurrences (rules.rs `Occurrence`: rule, at, key, subject {type, …}). */
function showNext(box, items) {
  clear(box);
  const occ = items.filter((o) => o && typeof o === 'object' && toDate(o.at))
    .sort((a, b) => toDate(a.at) - toDate(b.at));
  const MAX = 6;
  box.appendChild(h('h3', null, t('next_title')));
  if (!occ.length) {
    box.appendChild(h('p', { class: 'muted small', testid: 'next-none' }, t('next_none')));
    return;
  }
  box.appendChild(h('ul', { class: 'next-list' }, occ.slice(0, MAX).map((o) => h('li', { testid: 'next-item', 'data-rule': String(o.rule ?? '') },
    h('span', { class: 'next-at' }, fmtShort(o.at)),
    h('span', { class: 'next-rule' }, tv('rule', o.rule)),
    occurrenceSubject(o.subject) || h('span', { class: 'next-subject next-empty' })))));
  if (occ.length > MAX) box.appendChild(h('p', { class: 'muted small' }, t('next_more', { n: occ.length - MAX })));
}

function occurrenceSubject(sub) {
  if (!sub || typeof sub !== 'object') return null;
  if (sub.type === 'task' && sub.task_id != null) {
    const step = sub.step;
    let stepText = '';
    if (step && typeof step === 'object' && step.before != null) stepText = t('hours_before', { h: step.before });
    else if (typeof step === 'string') stepText = tv('step', step);
    return h('span', { class: 'muted small next-subject' }, h('a', { href: `#/task/${encodeURIComponent(sub.task_id)}` }, t('next_task', { id: sub.task_id })),
      stepText ? ` · ${stepText}` : '');
  }
  if (sub.type === 'milestone' && sub.milestone_id != null) {
    return h('span', { class: 'muted small next-subject' }, t('next_milestone', { id: sub.milestone_id }),
      sub.hours != null ? ` · ${t('hours_before', { h: sub.hours })}` : '');
  }
  return null;
}

// ---------------------------------------------------------- connectors --

async function pageConnectors() {
  pageTitle(t('connectors_title'));
  const data = await api('GET', '/connectors');
  const connectors = list(data, 'connectors');
  return h('div', { class: 'page', testid: 'connectors-page' }, h('h1', null, t('connectors_title')),
    connectors.length ? h('div', { class: 'stack' }, connectors.map(connectorCard)) : h('p', { class: 'muted', testid: 'connectors-empty' }, t('connectors_empty')));
}

function connectorCard(c) {
  const url = location.origin + (c.callback_path || '');
  const input = h('input', { class: 'mono', readonly: true, value: url, testid: 'callback-url', 'aria-label': t('callback_url'), onfocus: (ev) => ev.target.select() });
  const btn = h('button', { class: 'btn', type: 'button', testid: 'copy-button' }, t('copy'));
  btn.addEventListener('click', () => copyText(url, input));
  const config = c.config && typeof c.config === 'object' ? Object.entries(c.config).filter(([, v]) => v != null && typeof v !== 'object') : [];
  return h('article', { class: 'panel connector', testid: 'connector-item', 'data-connector-id': c.id },
    h('div', { class: 'card-head' }, h('h2', null, c.name || `#${c.id}`), h('span', { class: 'badge' }, String(c.kind ?? ''))),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('callback_url')), h('div', { class: 'copy-row' }, input, btn)),
    config.length ? h('dl', { class: 'facts small' }, config.map(([k, v]) => fact(k, String(v)))) : null);
}

// ------------------------------------------------------------- account --

async function pageAccount() {
  pageTitle(t('account_title'));
  const [me, tokensData] = await Promise.all([api('GET', '/me'),
    api('GET', '/tokens').catch((e) => { if (e.status === 401) throw e; return { error: e }; })]);
  if (me) state.me = me;
  const roles = list(me, 'roles');
  const profile = h('section', { class: 'panel', testid: 'account-profile' }, h('h2', null, t('account_profile')),
    h('dl', { class: 'facts' },
      fact(t('name'), h('span', { testid: 'account-name' }, personName(me))),
      fact(t('login'), h('code', { testid: 'account-login' }, me && me.login ? me.login : '—')),
      me && me.is_admin ? fact(t('role'), h('span', { class: 'badge on', testid: 'account-admin' }, t('account_admin'))) : null),
    h('h3', null, t('account_roles')),
    roles.length ? h('ul', { class: 'role-list', testid: 'account-roles' }, roles.map((r) => h('li', { testid: 'account-role', 'data-project-id': r.project_id, 'data-role': r.role },
      h('a', { href: `#/p/${r.project_id}/board` }, r.project || `#${r.project_id}`),
      h('span', { class: `badge role-${r.role}` }, tv('role', r.role)))))
      : h('p', { class: 'muted small', testid: 'account-no-roles' }, t('account_no_roles')));
  const tokens = tokensData && tokensData.error
    ? h('section', { class: 'panel', testid: 'account-tokens' }, h('h2', null, t('tokens_title')), h('p', { class: 'bad small' }, tokensData.error.message))
    : tokensPanel(list(tokensData, 'tokens'));
  const calendar = me && me.id ? calendarPanel() : null;
  return h('div', { class: 'page page-narrow', testid: 'account-page' }, h('h1', null, t('account_title')), profile, tokens, calendar);
}

// The member's read-only calendar token (POST/DELETE /calendar-token): the
// feed URL is shown once, right after it is created.
function calendarPanel() {
  const status = h('p', { class: 'muted small', testid: 'calendar-status' }, '');
  const urlBox = h('div', { testid: 'calendar-url-box' });
  const create = h('button', { class: 'btn btn-primary', type: 'button', testid: 'calendar-create' }, t('calendar_create'));
  const revoke = h('button', { class: 'btn btn-danger-ghost', type: 'button', testid: 'calendar-revoke' }, t('calendar_revoke'));
  function render(exists, createdAt) {
    status.textContent = exists ? `${t('calendar_active')} ${fmtTime(createdAt)}` : t('calendar_none');
    create.textContent = exists ? t('calendar_rotate') : t('calendar_create');
    revoke.hidden = !exists;
  }
  api('GET', '/calendar-token').then((s) => render(s && s.exists, s && s.created_at)).catch(() => render(false));
  create.addEventListener('click', async () => {
    create.disabled = true;
    try {
      const r = await api('POST', '/calendar-token', {});
      const url = `${location.origin}${r.member_feed}`;
      const input = h('input', { class: 'mono', readonly: true, value: url, testid: 'calendar-url', onfocus: (ev) => ev.target.select() });
      const copy = h('button', { class: 'btn', type: 'button' }, t('copy'));
      copy.addEventListener('click', () => copyText(url, input));
      clear(urlBox).appendChild(h('div', { class: 'copy-row' }, input, copy));
      render(true, Math.floor(Date.now() / 1000));
    } catch (e) { toast(e.message, 'error'); }
    create.disabled = false;
  });
  revoke.addEventListener('click', async () => {
    try { await api('DELETE', '/calendar-token'); clear(urlBox); render(false); } catch (e) { toast(e.message, 'error'); }
  });
  return h('section', { class: 'panel', testid: 'account-calendar' }, h('h2', null, t('calendar_title')),
    h('p', { class: 'muted small' }, t('calendar_intro')), status, urlBox, h('div', { class: 'actions' }, create, revoke));
}

function tokensPanel(initial) {
  let tokens = initial.slice();
  const name = h('input', { name: 'token-name', required: true, maxlength: '100', placeholder: t('token_name_placeholder'), testid: 'token-name', 'aria-label': t('token_name'), autocomplete: 'off' });
  const create = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'token-create' }, t('token_create'));
  const form = h('form', { class: 'token-form', testid: 'token-form' }, field(t('token_name'), name), create);
  const secretBox = h('div', { class: 'secret-slot' });
  const listBox = h('div', { testid: 'token-list-box' });

  function renderList() {
    clear(listBox).appendChild(tokens.length
      ? h('ul', { class: 'token-list', testid: 'token-list' }, tokens.map(tokenRow))
      : h('p', { class: 'muted small', testid: 'tokens-empty' }, t('tokens_empty')));
  }

  function tokenRow(tk) {
    const btn = h('button', { class: 'btn btn-danger-ghost', type: 'button', testid: 'token-revoke' }, t('token_revoke'));
    let armed = null;
    btn.addEventListener('click', async () => {
      // Two clicks: the first asks, the second revokes.
      if (!armed) {
        btn.textContent = t('token_revoke_confirm');
        btn.classList.add('armed');
        btn.dataset.armed = '1';
        armed = setTimeout(() => { armed = null; btn.textContent = t('token_revoke'); btn.classList.remove('armed'); delete btn.dataset.armed; }, 5000);
        return;
      }
      clearTimeout(armed);
      btn.disabled = true;
      try {
        await api('DELETE', `/tokens/${encodeURIComponent(tk.id)}`);
        tokens = tokens.filter((x) => x.id !== tk.id);
        renderList();
        toast(t('token_revoked'));
      } catch (e) {
        toast(e.message, 'error');
        btn.disabled = false;
      }
    });
    return h('li', { class: 'token-row', testid: 'token-item', 'data-token-id': tk.id },
      h('div', { class: 'token-info' }, h('strong', { class: 'token-name', testid: 'token-item-name' }, tk.name || `#${tk.id}`),
        h('span', { class: 'muted small' }, `${t('token_created_at')} ${fmtTime(tk.created_at)}`)),
      btn);
  }

  function showSecret(created) {
    const input = h('input', { class: 'mono', readonly: true, value: created.token, testid: 'token-secret', 'aria-label': t('token_secret'), onfocus: (ev) => ev.target.select() });
    const copy = h('button', { class: 'btn', type: 'button', testid: 'token-copy' }, t('copy'));
    copy.addEventListener('click', () => copyText(created.token, input));
    const done = h('button', { class: 'btn btn-ghost', type: 'button', testid: 'token-secret-done', onclick: () => clear(secretBox) }, t('token_done'));
    clear(secretBox).appendChild(h('div', { class: 'secret-panel', testid: 'token-secret-panel', role: 'alert' },
      h('div', { class: 'secret-title' }, `${t('token_secret')}: `, h('strong', null, created.name || '')),
      h('p', { class: 'warn-text', testid: 'token-secret-warning' }, t('token_secret_warning')),
      h('div', { class: 'copy-row' }, input, copy),
      h('div', { class: 'actions' }, done)));
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const n = name.value.trim();
    if (!n) { name.focus(); return; }
    create.disabled = true;
    try {
      const created = await api('POST', '/tokens', { name: n });
      if (created && typeof created.token === 'string') showSecret(created);
      const { token: _secret, ...meta } = created || {};
      if (meta.id != null) tokens = [meta, ...tokens.filter((x) => x.id !== meta.id)];
      renderList();
      name.value = '';
      toast(t('token_created'));
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      create.disabled = false;
    }
  });

  renderList();
  return h('section', { class: 'panel', testid: 'account-tokens' }, h('h2', null, t('tokens_title')),
    h('p', { class: 'muted small' }, t('tokens_intro')), form, secretBox, listBox);
}

/** Copies text to the clipboard, falling back to selecting the input; toasts the outcome. */
async function copyText(text, input) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); ok = true; }
  } catch (_) { /* fall back */ }
  if (!ok && input) {
    input.focus();
    input.select();
    try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
  }
  toast(ok ? t('copied') : t('copy_failed'), ok ? 'ok' : 'error');
}

// -------------------------------------------------------------- outbox --

const OUTBOX_COUNT_LIMIT = 1000; // the API's maximum page
const OUTBOX_SHOWN = 100;

async function pageOutbox(_args, params) {
  pageTitle(t('outbox_title'));
  const status = ['pending', 'sent', 'dead'].includes(params.get('status')) ? params.get('status') : 'pending';
  const STATES = ['pending', 'sent', 'dead'];
  // One list per tab: the current one is shown, the others only counted.
  const [lists, groups] = await Promise.all([
    Promise.all(STATES.map((s) => api('GET', `/outbox?status=${s}&limit=${OUTBOX_COUNT_LIMIT}`)
      .catch((e) => { if (s === status || e.status === 401) throw e; return null; }))),
    api('GET', '/groups').catch(() => null),
  ]);
  const byStatus = new Map(STATES.map((s, i) => [s, lists[i] == null ? null : list(lists[i], 'items', 'outbox', 'messages')]));
  const items = byStatus.get(status).slice(0, OUTBOX_SHOWN);
  const groupNames = new Map(list(groups, 'groups').map((g) => [g.id, g.name]));
  const countText = (n) => (n == null ? '' : n >= OUTBOX_COUNT_LIMIT ? `${OUTBOX_COUNT_LIMIT}+` : String(n));
  const tabs = h('nav', { class: 'tabs', testid: 'outbox-tabs' }, STATES.map((s) => {
    const n = byStatus.get(s) ? byStatus.get(s).length : null;
    return h('a', { href: `#/outbox?status=${s}`, class: s === status ? 'active' : null, testid: `outbox-tab-${s}`, 'aria-current': s === status ? 'page' : null },
      t(`ob_${s}`), n == null ? null : h('span', { class: 'tab-count' + (s === 'dead' && n > 0 ? ' bad' : ''), testid: `outbox-count-${s}`, 'data-count': n }, countText(n)));
  }));
  return h('div', { class: 'page', testid: 'outbox-page', 'data-status': status }, h('h1', null, t('outbox_title')), tabs,
    items.length ? h('div', { class: 'stack', testid: 'outbox-list' }, items.map((it) => outboxItem(it, status, groupNames, tabs)))
      : h('p', { class: 'muted', testid: 'outbox-empty' }, t('ob_empty')));
}

function bumpCount(tabs, status, delta) {
  const badge = tabs && tabs.querySelector(`[data-testid="outbox-count-${status}"]`);
  if (!badge) return;
  const n = Math.max(0, Number(badge.dataset.count || 0) + delta);
  badge.dataset.count = String(n);
  badge.textContent = n >= OUTBOX_COUNT_LIMIT ? `${OUTBOX_COUNT_LIMIT}+` : String(n);
  badge.classList.toggle('bad', status === 'dead' && n > 0);
}

function outboxText(payload) {
  if (payload == null) return '';
  if (typeof payload === 'string') return payload;
  const direct = pick(payload, 'text', 'content', 'markdown', 'message');
  if (typeof direct === 'string') return direct;
  if (direct && typeof direct === 'object') return outboxText(direct);
  try { return JSON.stringify(payload); } catch (_) { return String(payload); }
}

function outboxItem(it, status, groupNames, tabs) {
  const group = it.group ?? groupNames.get(it.group_id) ?? (it.group_id != null ? `#${it.group_id}` : '');
  const btn = status === 'dead' ? h('button', { class: 'btn', type: 'button', testid: 'requeue' }, t('requeue')) : null;
  const el = h('article', { class: `panel outbox-item ob-${status}`, testid: 'outbox-item', 'data-outbox-id': it.id },
    h('div', { class: 'card-head' },
      h('span', { class: 'muted small' }, [`#${it.id}`, it.kind, typeof group === 'object' ? personName(group) : group].filter(Boolean).join(' · ')),
      h('span', { class: 'muted small' }, status === 'sent' && it.sent_at ? `${t('ob_sent_at')} ${fmtTime(it.sent_at)}` : `${t('ob_created')} ${fmtTime(it.created_at)}`)),
    h('pre', { class: 'ob-text', testid: 'outbox-text' }, outboxText(it.payload ?? it.text)),
    it.attempts || it.last_error ? h('div', { class: 'small' + (it.last_error ? ' bad' : '') },
      `${t('ob_attempts')}: ${it.attempts ?? 0}`, it.last_error ? ` · ${t('ob_error')}: ${it.last_error}` : '') : null,
    btn ? h('div', { class: 'actions' }, btn) : null);
  if (btn) {
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await api('POST', `/outbox/${encodeURIComponent(it.id)}/requeue`, {});
        toast(t('requeued'));
        el.remove();
        bumpCount(tabs, status, -1);
        bumpCount(tabs, 'pending', +1);
      } catch (e) {
        toast(e.message, 'error');
        btn.disabled = false;
      }
    });
  }
  return el;
}

// -------------------------------------------------------------- search --

async function pageSearch(_args, params) {
  pageTitle(t('search_title'));
  const q = (params.get('q') || '').trim();
  const input = h('input', { type: 'search', name: 'q', value: q, placeholder: t('search_placeholder'), testid: 'search-input', 'aria-label': t('search_title'), enterkeyhint: 'search' });
  const form = h('form', { class: 'search-form', role: 'search', testid: 'search-form' }, input,
    h('button', { class: 'btn btn-primary', type: 'submit', testid: 'search-submit' }, t('search_go')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go(`#/search?q=${encodeURIComponent(input.value.trim())}`);
  });
  const page = h('div', { class: 'page', testid: 'search-page' }, h('h1', null, t('search_title')), form);
  if (!q) {
    page.appendChild(h('p', { class: 'muted' }, t('search_hint')));
    return page;
  }
  const data = (await api('GET', `/search?q=${encodeURIComponent(q)}`)) || {};
  const tasks = list(data.tasks);
  const messages = list(data.messages);
  const decisions = list(data.decisions);
  const words = q.split(/\s+/).filter(Boolean);
  const results = h('div', { class: 'search-results', testid: 'search-results' });
  if (!tasks.length && !messages.length && !decisions.length) results.appendChild(h('p', { class: 'muted', testid: 'search-none' }, t('search_none')));
  if (tasks.length) {
    results.appendChild(h('section', { class: 'panel' }, h('h2', null, `${t('search_tasks')} (${tasks.length})`),
      h('ul', { class: 'result-list' }, tasks.map((tk) => h('li', { testid: 'search-task' },
        h('a', { href: `#/task/${tk.id}` }, h('span', { class: 'ref' }, tk.reference || ''), ' ', highlight(tk.title || '', words)),
        h('span', { class: 'muted small' }, ` · ${tv('status', taskStatus(tk))}${tk.project ? ` · ${tk.project}` : ''}`))))));
  }
  if (messages.length) {
    results.appendChild(h('section', { class: 'panel' }, h('h2', null, `${t('search_messages')} (${messages.length})`),
      h('ul', { class: 'result-list' }, messages.map((m) => h('li', { testid: 'search-message' },
        h('div', null, highlight(pick(m, 'text', 'content') || '', words)),
        h('div', { class: 'muted small' }, [personName(pick(m, 'sender_name', 'sender')), pick(m, 'group', 'chat_name', 'group_name'), fmtTime(pick(m, 'sent_at', 'at'))].filter(Boolean).join(' · ')))))));
  }
  if (decisions.length) {
    results.appendChild(h('section', { class: 'panel' }, h('h2', null, `${t('search_decisions')} (${decisions.length})`),
      h('ul', { class: 'result-list' }, decisions.map((d) => h('li', { testid: 'search-decision' },
        h('div', null, highlight(typeof d === 'string' ? d : pick(d, 'text', 'title', 'content', 'decision', 'summary') || '', words)),
        typeof d === 'object' ? h('div', { class: 'muted small' }, [personName(pick(d, 'by', 'author', 'member', 'decided_by')), pick(d, 'project'), fmtTime(pick(d, 'decided_at', 'created_at', 'at'))].filter(Boolean).join(' · ')) : null)))));
  }
  page.appendChild(results);
  return page;
}

/** Wraps the words in <mark> without touching HTML: text nodes only. */
function highlight(text, words) {
  const str = String(text);
  if (!words.length) return str;
  const esc = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const parts = str.split(new RegExp(`(${esc.join('|')})`, 'gi'));
  return parts.map((p, i) => (i % 2 ? h('mark', null, p) : p));
}

// ---------------------------------------------------------- playground --

async function pagePlayground(_args, params) {
  pageTitle(t('pg_title'));
  const [groupsData, members] = await Promise.all([api('GET', '/groups'), loadMembers()]);
  const groups = list(groupsData, 'groups');
  const me = state.me || {};
  const admin = !!me.is_admin;
  const self = members.get(me.id) || [...members.values()].find((m) => personName(m) === me.name);

  const groupSel = h('select', { testid: 'pg-group', 'aria-label': t('pg_group') },
    groups.map((g) => h('option', { value: g.id }, `${g.name || g.chat_id}${g.kind ? ` (${tv('kind', g.kind)})` : ''}`)));
  const wanted = params.get('group');
  const firstBound = groups.find((g) => g.project_id != null) || groups[0];
  if (wanted && groups.some((g) => String(g.id) === wanted)) groupSel.value = wanted;
  else if (firstBound) groupSel.value = String(firstBound.id);

  const memberSel = h('select', { testid: 'pg-member', 'aria-label': t('pg_member'), disabled: !admin && !!self },
    [...members.values()].map((m) => h('option', { value: m.id }, personName(m))));
  if (self) memberSel.value = String(self.id);

  const transcript = h('div', { class: 'transcript', testid: 'pg-transcript', 'aria-live': 'polite' });
  const side = h('aside', { class: 'panel pg-board', testid: 'pg-board' });
  const input = h('textarea', { rows: '2', testid: 'pg-input', placeholder: t('pg_placeholder'), 'aria-label': t('pg_placeholder'), enterkeyhint: 'send' });
  const send = h('button', { class: 'btn btn-primary', type: 'submit', testid: 'pg-send' }, t('pg_send'));
  const form = h('form', { class: 'composer', testid: 'pg-form' }, input, send);
  const examples = ['@李四 明天下午3点前把测试报告写完', '#TASK-001 进度60%', '#TASK-001 已完成', '/任务'];

  const currentGroup = () => groups.find((g) => String(g.id) === groupSel.value);
  const highlightRefs = new Set();

  async function loadTranscript() {
    clear(transcript).appendChild(h('p', { class: 'muted small' }, t('loading')));
    transcript.dataset.loading = '1';
    try {
      const data = await api('GET', `/messages?group_id=${encodeURIComponent(groupSel.value)}&limit=50`);
      const msgs = list(data, 'messages').slice();
      msgs.sort((a, b) => (Number(toDate(pick(a, 'sent_at', 'at'))) || 0) - (Number(toDate(pick(b, 'sent_at', 'at'))) || 0) || (a.id ?? 0) - (b.id ?? 0));
      clear(transcript);
      if (!msgs.length) transcript.appendChild(h('p', { class: 'muted small pg-empty' }, t('pg_empty')));
      for (const m of msgs) {
        addBubble(pick(m, 'sender_name', 'sender') ?? '', pick(m, 'text', 'content') ?? '', pick(m, 'sent_at', 'at'), false);
        for (const r of replyList(m)) addBubble(t('pg_bot'), r, null, true);
      }
      scrollToEnd(transcript);
    } catch (e) {
      if (e.status === 401) return;
      clear(transcript).appendChild(h('p', { class: 'bad small' }, e.message));
    } finally {
      delete transcript.dataset.loading;
    }
  }

  function addBubble(sender, text, at, bot) {
    transcript.querySelector('.pg-empty')?.remove();
    const mine = !bot && self && personName(sender) === personName(self);
    transcript.appendChild(h('div', { class: `bubble ${bot ? 'bot' : 'user'}${mine ? ' mine' : ''}`, testid: bot ? 'bubble-bot' : 'bubble-user' },
      h('div', { class: 'bubble-who small' }, personName(sender), at != null ? h('span', { class: 'muted' }, ` · ${fmtShort(at)}`) : null),
      h('div', { class: 'bubble-text' }, text)));
    scrollToEnd(transcript);
  }

  async function loadSideBoard() {
    const g = currentGroup();
    clear(side).appendChild(h('h2', null, t('pg_board')));
    if (!g || g.project_id == null) {
      side.appendChild(h('p', { class: 'muted small' }, t('pg_no_project')));
      return;
    }
    try {
      const data = await loadProjectTasks(g.project_id);
      const tasks = list(data, 'tasks');
      side.appendChild(h('p', { class: 'small' }, h('a', { href: `#/p/${g.project_id}/board` }, g.project || t('tab_board'))));
      for (const status of STATUSES) {
        const inCol = tasks.filter((tk) => taskStatus(tk) === status);
        if (!inCol.length) continue;
        side.appendChild(h('section', { class: 'mini-col', testid: `pg-col-${status}` },
          h('h3', null, h('span', { class: `dot status-${status}` }), tv('status', status), h('span', { class: 'col-count' }, String(inCol.length))),
          h('ul', null, inCol.map((tk) => {
            const owners = ownerNames(tk, members);
            return h('li', { testid: 'pg-task', 'data-ref': tk.reference || '', 'data-task-id': tk.id, class: highlightRefs.has(tk.reference) || highlightRefs.has(String(tk.id)) ? 'flash' : null },
              h('a', { href: `#/task/${tk.id}` }, h('span', { class: 'ref' }, tk.reference || ''), ' ', tk.title || ''),
              h('span', { class: 'muted small' + (isOverdue(tk) ? ' bad' : '') }, ` ${owners.join('、')}${(tk.due ?? tk.due_at) ? ` · ${fmtShort(tk.due ?? tk.due_at)}` : ''}`));
          }))));
      }
      if (!tasks.length) side.appendChild(h('p', { class: 'muted small' }, t('m_no_data')));
    } catch (e) {
      if (e.status !== 401) side.appendChild(h('p', { class: 'bad small' }, e.message));
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const member = members.get(Number(memberSel.value)) || self;
    send.disabled = true;
    try {
      const res = await api('POST', '/messages', { group_id: Number(groupSel.value), member_id: Number(memberSel.value), text });
      addBubble(personName(member), text, Date.now() / 1000, false);
      const replies = replyList(res);
      if (replies.length) replies.forEach((r) => addBubble(t('pg_bot'), r, null, true));
      else transcript.appendChild(h('p', { class: 'muted small', testid: 'pg-no-reply' }, t('pg_no_reply')));
      scrollToEnd(transcript);
      highlightRefs.clear();
      for (const x of [...list(res && res.created), ...list(res && res.updated)]) {
        highlightRefs.add(typeof x === 'object' ? String(x.reference ?? x.id) : String(x));
      }
      input.value = '';
      await loadSideBoard();
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      send.disabled = false;
      input.focus();
    }
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  groupSel.addEventListener('change', () => { loadTranscript(); loadSideBoard(); });

  await Promise.all([loadTranscript(), loadSideBoard()]);
  return h('div', { class: 'page page-wide', testid: 'playground-page' },
    h('h1', null, t('pg_title')), h('p', { class: 'muted' }, t('pg_intro')),
    h('div', { class: 'pg-controls' }, field(t('pg_group'), groupSel), field(t('pg_member'), memberSel)),
    !admin && self ? h('p', { class: 'muted small' }, t('pg_self_only')) : null,
    h('div', { class: 'pg-layout' },
      h('section', { class: 'panel pg-chat' }, transcript, form,
        h('div', { class: 'examples small' }, h('span', { class: 'muted' }, t('pg_examples')),
          examples.map((x) => h('button', { type: 'button', class: 'chip', onclick: () => { input.value = x; input.focus(); } }, x)))),
      side));
}

/**
 * Shows the newest messages. On the first load the transcript is built
 * before the page is in the document (where scrolling does nothing), so it
 * waits for the element to be attached and laid out.
 */
function scrollToEnd(el, tries = 60) {
  if (el.isConnected && el.clientHeight > 0) {
    el.scrollTop = el.scrollHeight;
    // Once more after the next layout (fonts, wrapped lines).
    requestAnimationFrame(() => { el.scrollTop = el.scrollHeight; });
    return;
  }
  if (tries > 0) requestAnimationFrame(() => scrollToEnd(el, tries - 1));
}

function replyList(m) {
  if (!m) return [];
  const r = m.replies ?? m.reply ?? m.bot_reply;
  if (r == null) return [];
  if (Array.isArray(r)) return r.map(replyText).filter(Boolean);
  const s = replyText(r);
  return s ? [s] : [];
}

// ---------------------------------------------------------------- boot --

window.addEventListener('hashchange', render);
window.addEventListener('DOMContentLoaded', () => {
  applyLang();
  if (!location.hash) history.replaceState(null, '', '#/projects');
  render();
});
